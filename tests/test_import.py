"""Bulk nomination import (CSV/XLSX): preview with every rule, commit in chunks, pages,
error report and the management command."""

from __future__ import annotations

import csv
import io
import time
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from core.choices import Category, Role, Segment
from core.errors import ApplicationError
from core.models import Event
from customers.models import Customer
from imports import parsing
from imports.models import ImportJob
from imports.services import commit, import_commit, import_preview
from nominations.models import Nomination
from tests.factories import CustomerFactory, nominate, user_for_role

pytestmark = [pytest.mark.django_db]

HEADER = "customer_tpid,offer,workloads,deal_value,expected_close_date,migration_sources,notes"
SAMPLE = Path(__file__).resolve().parent.parent / "imports" / "sample-nominations.csv"


@pytest.fixture
def world(fy24: Any) -> Any:
    with time_machine.travel(date(2024, 3, 1), tick=False):
        yield {
            "fy24": fy24,
            "rep": user_for_role(Role.FIELD_REP),
            "pm": user_for_role(Role.PROGRAM_MANAGER),
        }


def upload(text: str, name: str = "nominations.csv") -> ContentFile[bytes]:
    return ContentFile(text.encode("utf-8"), name=name)


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def rules_of(row: dict[str, Any]) -> set[str]:
    return {v["rule"] for v in row["violations"]}


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- 5,000 rows ---------------------------------------------------------------------------------


def _big_file(rep: Any, program: Any) -> tuple[str, dict[int, str | None]]:
    """250 blocks of 20 rows: 11 good, 9 with one known fault each. Returns the file and
    each row number's expected rule (None: good)."""
    blocks = 250
    fresh = Customer.objects.bulk_create(
        Customer(
            tpid=f"77{n:06d}",
            name=f"Import customer {n}",
            country="US",
            category=Category.COMMERCIAL,
            segment=Segment.ENTERPRISE,
            e3_licenses=200,
        )
        for n in range(blocks * 10)
    )
    npo = CustomerFactory(category=Category.NON_PROFIT)
    big_e3 = CustomerFactory(e3_licenses=1500)
    plain = CustomerFactory()
    held = CustomerFactory()
    nominate(program, held, rep)  # an open DEPLOY nomination saved before the import

    lines: list[str] = []
    expected: dict[int, str | None] = {}

    def add(line: str, rule: str | None) -> None:
        expected[len(lines) + 2] = rule  # the header is row 1
        lines.append(line)

    for b in range(blocks):
        mine = fresh[b * 10 : b * 10 + 10]
        for c in mine:
            add(f"{c.tpid},DEPLOY,M365_E3;M365_E5,400000,2024-05-20,,", None)
        add(f"{mine[0].tpid},COPILOT,M365_COPILOT,150000,2024-05-20,,combinable", None)
        add(f"{plain.tpid},COPILOT,M365_COPILOT,100000,2024-02-30,,", "FORMAT")
        add(f"99{b:06d},DEPLOY,M365_E3,100000,2024-05-20,,", "FORMAT")
        add(f"{npo.tpid},DEPLOY,M365_E3,100000,2024-05-20,,", "R-ELIG-2")
        add(f"{big_e3.tpid},DEPLOY,M365_E3,100000,2024-05-20,,", "R-ELIG-3")
        add(f"{mine[1].tpid},MIGRATE,M365_E3,300000,2024-05-20,office_on_prem,", "R-OFFER-1")
        add(f"{plain.tpid},DEPLOY,FLW_F3,100000,2024-05-20,,", "R-WL-1")
        add(f"{plain.tpid},DEPLOY,M365_E3,1000000,2024-05-20,,", "R-CAP-2")
        add(f"{held.tpid},DEPLOY|COPILOT,M365_E3,12O000,2024-05-20,,", "FORMAT")
        if b % 2:
            add(f"{held.tpid},MIGRATE,M365_E5,200000,2024-05-20,competitor,", "R-OFFER-1")
        else:
            add(f'{plain.tpid},DEPLOY,M365_E3,"200,000",2024-05-20,,=cmd', None)
    return csv_text(*lines), expected


def test_five_thousand_rows_every_bad_row_has_its_rule_and_good_rows_are_created(
    world: Any, django_assert_max_num_queries: Any, capsys: Any
) -> None:
    rep, program = world["rep"], world["fy24"]
    text, expected = _big_file(rep, program)
    assert len(expected) == 5000
    before = Nomination.objects.count()

    started = time.perf_counter()
    with django_assert_max_num_queries(12):
        job = import_preview(user=rep, program=program, upload=upload(text))
    previewed = time.perf_counter()
    job = import_commit(job_id=job.pk)
    committed = time.perf_counter()
    with capsys.disabled():
        print(
            f"\n5,000 rows: preview {previewed - started:.2f}s, commit {committed - previewed:.2f}s"
        )

    good = [n for n, rule in expected.items() if rule is None]
    # "plain" holds m365 after its first good DEPLOY row: the later ones fail R-OFFER-1.
    plain_rows = [n for n in good if '"200,000"' in text.splitlines()[n - 1]]
    for n in plain_rows[1:]:
        expected[n] = "R-OFFER-1"
    good = [n for n, rule in expected.items() if rule is None]

    rows = {r["row"]: r for r in job.rows}
    assert len(rows) == 5000
    for number, rule in expected.items():
        row = rows[number]
        if rule is None:
            assert row["ok"], (number, row["violations"])
        else:
            assert not row["ok"] and rule in rules_of(row), (number, rule, row["violations"])
            assert all(v["message"] for v in row["violations"])
    in_file = rows[min(n for n, r in expected.items() if r == "R-OFFER-1")]
    assert "of this file already nominates" in in_file["violations"][0]["message"]

    assert job.status == ImportJob.Status.DONE
    assert job.total_rows == job.processed_rows == 5000
    assert job.good_rows == len(good) == 2751 and job.bad_rows == 5000 - len(good)
    assert job.created_count == len(good)
    assert Nomination.objects.count() == before + len(good)
    created = Nomination.objects.filter(pk__in=[rows[n]["nomination"] for n in good])
    assert created.count() == len(good)
    assert set(created.values_list("status", flat=True)) == {"submitted"}
    assert set(created.values_list("nominated_by", flat=True)) == {rep.pk}
    sample = created.get(pk=rows[2]["nomination"])
    assert sample.estimated_value == Decimal("40000.00") and sample.exclusive_group == "m365"
    assert sample.estimated_cap == Decimal("75000.00")
    events = Event.objects.filter(subject="nomination", action="submitted", data__import=job.pk)
    assert events.count() == len(good)
    assert set(events.values_list("subject_id", flat=True)) == set(
        created.values_list("pk", flat=True)
    )

    again = import_commit(job_id=job.pk)
    assert again.created_count == len(good)
    assert Nomination.objects.count() == before + len(good)
    assert events.count() == len(good)


# -- commit-time checks -------------------------------------------------------------------------


def test_commit_refuses_a_row_whose_group_became_held_after_the_preview(world: Any) -> None:
    rep, program = world["rep"], world["fy24"]
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    text = csv_text(
        *(f"{x.tpid},DEPLOY,M365_E3,200000,2024-05-20,," for x in (a, b, c)),
    )
    job = import_preview(user=rep, program=program, upload=upload(text))
    assert job.good_rows == 3
    nominate(program, b, rep, offer="MIGRATE", migration_sources=["competitor"])

    job = import_commit(job_id=job.pk)
    assert job.created_count == 2 and job.good_rows == 2 and job.bad_rows == 1
    refused = job.rows[1]
    assert not refused["ok"] and rules_of(refused) == {"R-OFFER-1"}
    assert refused["refused_at_commit"]
    assert Nomination.objects.filter(customer=b).count() == 1


def test_a_unique_constraint_clash_falls_back_to_row_by_row(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep, program = world["rep"], world["fy24"]
    customers = [CustomerFactory() for _ in range(4)]
    text = csv_text(*(f"{x.tpid},DEPLOY,M365_E3,200000,2024-05-20,," for x in customers))
    job = import_preview(user=rep, program=program, upload=upload(text))
    nominate(program, customers[2], rep)
    # Blind the commit-time check: the database constraint is the last line of defence.
    monkeypatch.setattr(commit, "held_groups_by_customer", lambda **kwargs: defaultdict(set))

    job = import_commit(job_id=job.pk)
    assert job.created_count == 3
    assert [r["ok"] for r in job.rows] == [True, True, False, True]
    assert rules_of(job.rows[2]) == {"R-OFFER-1"}
    assert Nomination.objects.filter(customer=customers[2]).count() == 1
    assert Event.objects.filter(data__import=job.pk).count() == 3


def test_commits_in_chunks_and_reports_progress(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commit, "CHUNK", 2)
    rep, program = world["rep"], world["fy24"]
    customers = [CustomerFactory() for _ in range(5)]
    text = csv_text(
        *(f"{x.tpid},DEPLOY,M365_E3,200000,2024-05-20,," for x in customers),
        "123,DEPLOY,M365_E3,200000,2024-05-20,,",
    )
    job = import_preview(user=rep, program=program, upload=upload(text))
    seen: list[tuple[int, int]] = []
    job = import_commit(job_id=job.pk, progress=lambda done, total: seen.append((done, total)))
    assert seen[:3] == [(2, 6), (4, 6), (6, 6)] and seen[-1] == (6, 6)
    assert job.created_count == 5 and job.status == "done"


def test_a_failed_commit_resumes_after_its_last_chunk(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commit, "CHUNK", 2)
    rep, program = world["rep"], world["fy24"]
    customers = [CustomerFactory() for _ in range(5)]
    text = csv_text(*(f"{x.tpid},DEPLOY,M365_E3,200000,2024-05-20,," for x in customers))
    job = import_preview(user=rep, program=program, upload=upload(text))
    real_create = commit._create
    calls = {"n": 0}

    def crash_on_second_chunk(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(commit, "_create", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        import_commit(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count) == ("failed", 2, 2)
    assert "worker lost" in job.error and Nomination.objects.count() == 2

    job = import_commit(job_id=job.pk)
    assert (job.status, job.created_count) == ("done", 5)
    assert Nomination.objects.count() == 5
    assert Event.objects.filter(data__import=job.pk).count() == 5
    assert all(r["nomination"] for r in job.rows)


# -- parsing -------------------------------------------------------------------------------------


def test_xlsx_import(world: Any) -> None:
    import openpyxl

    rep, program = world["rep"], world["fy24"]
    smc = CustomerFactory(tpid="4242", segment=Segment.SMC_C, category=Category.SMC_CORPORATE)
    ent = CustomerFactory()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Customer TPID", "OFFER", "Workloads", "Deal_Value", "Expected-Close-Date",
                  "upsell_expansion", "agreement_type", "migration_sources"])  # fmt: skip
    sheet.append([4242, "migrate", "m365_e3|teams_phone", 250000.5, date(2024, 6, 10), True,
                  "Renewal", "competitor;office_on_prem"])  # fmt: skip
    sheet.append([int(ent.tpid), "DEPLOY", "M365_E5", 300000, date(2024, 5, 20), None, None])
    sheet.append([])
    sheet.append([int(ent.tpid), "COPILOT", "M365_E3", "abc", "20.05.2024", "maybe", "x"])
    buffer = io.BytesIO()
    book.save(buffer)

    job = import_preview(
        user=rep, program=program, upload=ContentFile(buffer.getvalue(), name="noms.xlsx")
    )
    assert (job.total_rows, job.good_rows, job.bad_rows) == (3, 2, 1)
    first = job.rows[0]["values"]
    assert first["customer"] == smc.pk and first["offer"] == "MIGRATE"
    assert first["workloads"] == ["M365_E3", "TEAMS_PHONE"]
    assert first["deal_value"] == "250000.50" and first["expected_close_date"] == "2024-06-10"
    assert first["agreement_type"] == "renewal" and first["upsell_expansion"] is True
    assert first["migration_sources"] == ["competitor", "office_on_prem"]
    bad = job.rows[2]
    assert bad["row"] == 5  # the blank spreadsheet row 4 is skipped, numbering kept
    messages = " ".join(v["message"] for v in bad["violations"])
    assert rules_of(bad) == {"FORMAT"}
    for column in ("deal_value", "expected_close_date", "upsell_expansion", "agreement_type"):
        assert column in messages
    job = import_commit(job_id=job.pk)
    assert job.created_count == 2


def test_semicolon_csv_with_bom_and_file_level_errors(world: Any, monkeypatch: Any) -> None:
    rep, program = world["rep"], world["fy24"]
    customer = CustomerFactory()
    text = "\ufeffCUSTOMER_TPID;Offer;Workloads;Deal_Value;Expected_Close_Date\n"
    text += f"{customer.tpid};DEPLOY;M365_E3;200000;2024-05-20\n"
    job = import_preview(user=rep, program=program, upload=upload(text))
    assert job.good_rows == 1

    with pytest.raises(ApplicationError) as missing:
        import_preview(
            user=rep, program=program, upload=upload("customer_tpid,offer,notes\n1,DEPLOY,x\n")
        )
    assert "workloads" in missing.value.message and "deal_value" in missing.value.message
    assert "expected_close_date" in missing.value.message

    monkeypatch.setattr(parsing, "MAX_ROWS", 3)
    rows = [f"{customer.tpid},DEPLOY,M365_E3,1,2024-05-20,," for _ in range(4)]
    with pytest.raises(ApplicationError, match="more than 3 rows"):
        import_preview(user=rep, program=program, upload=upload(csv_text(*rows)))
    monkeypatch.setattr(parsing, "MAX_BYTES", 100)
    with pytest.raises(ApplicationError, match="MB"):
        import_preview(user=rep, program=program, upload=upload(csv_text(*rows[:2])))
    with pytest.raises(ApplicationError, match="UTF-8"):
        import_preview(
            user=rep, program=program, upload=ContentFile(b"customer_tpid\n\xff\xfe", name="a.csv")
        )
    assert ImportJob.objects.count() == 1


def test_program_manager_imports_for_named_field_reps(world: Any) -> None:
    rep, pm, program = world["rep"], world["pm"], world["fy24"]
    a, b, c, d = (CustomerFactory() for _ in range(4))
    header = HEADER + ",nominated_by"
    text = csv_text(
        f"{a.tpid},DEPLOY,M365_E3,200000,2024-05-20,,,{rep.username}",
        f"{b.tpid},DEPLOY,M365_E3,200000,2024-05-20,,,{pm.username}",
        f"{c.tpid},DEPLOY,M365_E3,200000,2024-05-20,,,",
        f"{d.tpid},DEPLOY,M365_E3,200000,2024-05-20,,,nobody",
        header=header,
    )
    job = import_preview(user=pm, program=program, upload=upload(text))
    assert [r["ok"] for r in job.rows] == [True, False, False, False]
    assert rules_of(job.rows[1]) == rules_of(job.rows[2]) == {"R-ELIG-5"}
    assert rules_of(job.rows[3]) == {"FORMAT"}
    job = import_commit(job_id=job.pk)
    nomination = Nomination.objects.get(customer=a)
    assert nomination.nominated_by == rep
    assert Event.objects.get(subject_id=nomination.pk, data__import=job.pk).actor == pm

    with pytest.raises(ApplicationError, match="nominated_by"):
        import_preview(user=pm, program=program, upload=upload(csv_text(text.splitlines()[1])))
    partner = user_for_role(Role.PARTNER)
    with pytest.raises(ApplicationError) as refused:
        import_preview(user=partner, program=program, upload=upload(text))
    assert refused.value.rule == "R-ELIG-5"


def test_a_rep_cannot_import_for_someone_else(world: Any) -> None:
    rep, program = world["rep"], world["fy24"]
    other = user_for_role(Role.FIELD_REP)
    customer = CustomerFactory()
    text = csv_text(
        f"{customer.tpid},DEPLOY,M365_E3,200000,2024-05-20,,,{other.username}",
        header=HEADER + ",nominated_by",
    )
    job = import_preview(user=rep, program=program, upload=upload(text))
    assert rules_of(job.rows[0]) == {"R-ELIG-5"}


# -- pages ---------------------------------------------------------------------------------------


def test_upload_preview_commit_progress_and_error_report(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rep = world["rep"]
    good, npo = CustomerFactory(), CustomerFactory(category=Category.NON_PROFIT)
    text = csv_text(
        f"{good.tpid},DEPLOY,M365_E3,200000,2024-05-20,,",
        f"{npo.tpid},DEPLOY,FLW_F3,200000,2024-05-20,,",
        "=HYPERLINK(1),DEPLOY,M365_E3,200000,2024-05-20,,",
    )
    client = as_user(rep)
    page = client.get("/imports/")
    assert page.status_code == 200 and b"FY24-MWSDO" in page.content
    response = client.post(
        "/imports/",
        {"program": "FY24-MWSDO", "file": SimpleUploadedFile("mine.csv", text.encode())},
    )
    job = ImportJob.objects.get(uploaded_by=rep)
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"

    preview = client.get(f"/imports/{job.pk}/")
    assert preview.status_code == 200
    for expected in (b"R-ELIG-2", b"Non-profit customers are not eligible", b"R-WL-1",
                     b"FORMAT", b"Create 1 nomination", b"errors.csv"):  # fmt: skip
        assert expected in preview.content, expected

    report = client.get(f"/imports/{job.pk}/errors.csv")
    assert report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    # One line per refused row: its row, rule IDs and sentences, then the file's columns.
    assert lines[0] == ["source_row", "error_rules", "errors", *HEADER.split(",")]
    assert [(r[0], r[1]) for r in lines[1:]] == [("3", "R-ELIG-2; R-WL-1"), ("4", "FORMAT")]
    assert "R-ELIG-2: Non-profit customers are not eligible" in lines[1][2]
    assert lines[1][3:] == [npo.tpid, "DEPLOY", "FLW_F3", "200000", "2024-05-20", "", ""]
    assert lines[2][3] == "'=HYPERLINK(1)"  # neutralised for the spreadsheet (csv_safe)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(f"/imports/{job.pk}/commit/")
    job.refresh_from_db()
    assert job.status == "queued" and len(callbacks) == 1
    polling = client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 1s"' in polling.content and b"<progress" in polling.content
    assert "HX-Refresh" not in polling
    with django_capture_on_commit_callbacks(execute=False) as again:
        client.post(f"/imports/{job.pk}/commit/")  # a double click queues nothing more
    assert again == []
    callbacks[0]()  # the worker (eager in tests)

    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 1 and job.finished_at
    assert Nomination.objects.filter(customer=good, nominated_by=rep).count() == 1
    done = client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert b"hx-trigger" not in done.content and b"Created 1 nomination" in done.content
    assert done["HX-Refresh"] == "true"
    final = client.get(f"/imports/{job.pk}/")
    assert b"hx-trigger" not in final.content and b"Create 1 nomination" not in final.content
    assert b"mine.csv" in client.get("/imports/").content


def test_commit_button_runs_the_task_on_commit(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = CustomerFactory()
    client = as_user(world["rep"])
    text = csv_text(f"{customer.tpid},COPILOT,M365_COPILOT,100000,2024-05-20,,")
    client.post(
        "/imports/", {"program": "FY24-MWSDO", "file": SimpleUploadedFile("a.csv", text.encode())}
    )
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/commit/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done" and Nomination.objects.filter(customer=customer).exists()


def test_upload_errors_are_shown_on_the_form(world: Any) -> None:
    client = as_user(world["rep"])
    response = client.post(
        "/imports/",
        {"program": "FY24-MWSDO", "file": SimpleUploadedFile("x.csv", b"tpid,offer\n1,DEPLOY\n")},
    )
    assert response.status_code == 200
    assert b"Required columns are missing" in response.content
    assert b"customer_tpid" in response.content
    assert not ImportJob.objects.exists()


def test_other_users_jobs_and_other_roles_get_404(world: Any) -> None:
    rep, pm = world["rep"], world["pm"]
    customer = CustomerFactory()
    job = import_preview(
        user=rep,
        program=world["fy24"],
        upload=upload(csv_text(f"{customer.tpid},DEPLOY,M365_E3,200000,2024-05-20,,")),
    )
    for intruder in (user_for_role(Role.FIELD_REP), pm):
        client = as_user(intruder)
        assert client.get("/imports/").status_code == 200
        for url in ("", "progress/", "errors.csv"):
            assert client.get(f"/imports/{job.pk}/{url}").status_code == 404
        assert client.post(f"/imports/{job.pk}/commit/").status_code == 404
    for role in (Role.CUSTOMER, Role.PARTNER, Role.REVIEWER):
        client = as_user(user_for_role(role))
        assert client.get("/imports/").status_code == 404
        assert client.get(f"/imports/{job.pk}/").status_code == 404
    job.refresh_from_db()
    assert job.status == "previewed"
    assert Client().get("/imports/").status_code == 302  # to the login page


# -- the error report, corrected and imported again ----------------------------------------


def report_rows(client: Client, job: ImportJob) -> list[dict[str, str]]:
    report = client.get(f"/imports/{job.pk}/errors.csv")
    assert report.status_code == 200
    return list(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig"))))


def write_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_the_error_report_carries_every_column_and_a_corrected_report_imports_as_is(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rep = world["rep"]
    good, plain = CustomerFactory(), CustomerFactory()
    npo = CustomerFactory(category=Category.NON_PROFIT)
    # The rep's own file: columns in their order and case, and two the import does not
    # read ("Account owner", "Internal ref"), which the report gives back too.
    text = "\n".join(
        [
            "Account owner,Customer_TPID,Offer,Workloads,Deal Value,Expected Close Date,"
            "Migration_Sources,Notes,Internal ref",
            f"Ana,{good.tpid},DEPLOY,M365_E3,200000,2024-05-20,,ok,A-1",
            f"Ben,{npo.tpid},DEPLOY,FLW_F3,200000,2024-05-20,,=SUM(A1),A-2",
            f'Cy,{plain.tpid},MIGRATE,M365_E3|TEAMS_PHONE,"250,000",2024/05/20,,-,A-3',
        ]
    )
    client = as_user(rep)
    client.post(
        "/imports/",
        {"program": "FY24-MWSDO", "file": SimpleUploadedFile("mine.csv", text.encode())},
    )
    job = ImportJob.objects.get(uploaded_by=rep)
    assert (job.good_rows, job.bad_rows) == (1, 2)
    rows = report_rows(client, job)
    assert list(rows[0]) == [
        "source_row", "error_rules", "errors", "Account owner", "Customer_TPID", "Offer",
        "Workloads", "Deal Value", "Expected Close Date", "Migration_Sources", "Notes",
        "Internal ref",
    ]  # fmt: skip
    first, second = rows
    assert (first["source_row"], first["error_rules"]) == ("3", "R-ELIG-2; R-WL-1")
    assert "R-WL-1: " in first["errors"] and " | " in first["errors"]
    assert first["Account owner"] == "Ben" and first["Internal ref"] == "A-2"
    assert first["Notes"] == "'=SUM(A1)"  # neutralised in the spreadsheet (csv_safe)
    assert (second["source_row"], second["error_rules"]) == ("4", "FORMAT")
    assert second["Deal Value"] == "250,000" and second["Workloads"] == "M365_E3|TEAMS_PHONE"

    # The rep corrects the cells and uploads the report itself, its own columns kept.
    first["Customer_TPID"], first["Workloads"] = plain.tpid, "M365_E3;FLW_F3"
    second["Customer_TPID"], second["Offer"] = CustomerFactory().tpid, "COPILOT"
    second["Workloads"], second["Expected Close Date"] = "M365_COPILOT", "2024-05-20"
    client.post(
        "/imports/",
        {"program": "FY24-MWSDO", "file": SimpleUploadedFile("fixed.csv", write_csv(rows))},
    )
    again = ImportJob.objects.filter(uploaded_by=rep).latest("pk")
    assert (again.total_rows, again.good_rows, again.bad_rows) == (2, 2, 0), again.rows
    assert again.columns == list(rows[0])[3:]  # the report's columns are not kept
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{again.pk}/commit/")
    again.refresh_from_db()
    assert again.status == "done" and again.created_count == 2
    made = Nomination.objects.get(customer=plain, nominated_by=rep)
    assert made.notes == "=SUM(A1)"  # as the rep wrote it, not the neutralised text
    assert made.workloads == ["M365_E3", "FLW_F3"]


def test_an_uncorrected_report_gives_the_same_report_back(world: Any) -> None:
    rep = world["rep"]
    npo = CustomerFactory(category=Category.NON_PROFIT)
    client = as_user(rep)
    text = csv_text(f"{npo.tpid},DEPLOY,M365_E3,100000,2024-05-20,,note", header=HEADER + ",@Owner")
    client.post(
        "/imports/", {"program": "FY24-MWSDO", "file": SimpleUploadedFile("a.csv", text.encode())}
    )
    first = report_rows(client, ImportJob.objects.get())
    client.post(
        "/imports/",
        {"program": "FY24-MWSDO", "file": SimpleUploadedFile("b.csv", write_csv(first))},
    )
    second = report_rows(client, ImportJob.objects.latest("pk"))
    assert second == first  # no column doubled, the same row number and rules
    assert first[0]["error_rules"] == "R-ELIG-2" and first[0]["notes"] == "note"
    assert list(first[0])[-1] == "'@Owner"  # a header neutralised too, and read back as it was


def test_a_report_of_a_job_checked_before_the_header_was_kept(world: Any) -> None:
    rep = world["rep"]
    npo = CustomerFactory(category=Category.NON_PROFIT)
    job = import_preview(
        user=rep,
        program=world["fy24"],
        upload=upload(csv_text(f"{npo.tpid},DEPLOY,M365_E3,100000,2024-05-20,,")),
    )
    ImportJob.objects.filter(pk=job.pk).update(columns=[])
    [row] = report_rows(as_user(rep), job)
    assert list(row)[3:] == ["customer_tpid", "offer", "workloads", "deal_value",
                             "expected_close_date", "migration_sources", "notes"]  # fmt: skip
    assert row["customer_tpid"] == npo.tpid


# -- the sample file ---------------------------------------------------------------------------


@pytest.fixture
def demo_world(db: None) -> Any:
    """`make run`'s data on a day inside the demo program: both programs, the demo
    logins and organisations, and the demo scenario's nominations and vouchers."""
    with time_machine.travel(date(2027, 1, 15), tick=False):
        call_command("load_program", "fy24", verbosity=0)
        call_command("load_program", "demo", verbosity=0)
        call_command("seed_demo", stdout=io.StringIO())
        yield


def test_the_rep_downloads_the_sample_and_it_imports_in_the_demo(
    demo_world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from accounts.models import User

    rep = User.objects.get(username="rep")
    client = as_user(rep)
    page = client.get("/imports/")
    assert b'href="/imports/sample.csv"' in page.content and b"DEMO-FY27" in page.content
    sample = client.get("/imports/sample.csv")
    assert sample.status_code == 200 and sample["Content-Type"].startswith("text/csv")
    assert "sample-nominations.csv" in sample["Content-Disposition"]
    assert sample.content == SAMPLE.read_bytes()  # the demo rep's copy is the shipped file

    response = client.post(
        "/imports/",
        {"program": "DEMO-FY27", "file": SimpleUploadedFile("sample.csv", sample.content)},
    )
    job = ImportJob.objects.get(uploaded_by=rep)
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert job.bad_rows == 0, job.bad()
    assert job.good_rows == job.total_rows == 4
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/commit/")
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 4
    imported = Nomination.objects.filter(pk__in=[r["nomination"] for r in job.rows])
    assert {n.nominated_by for n in imported} == {rep}
    assert {(n.customer.tpid, n.offer.code) for n in imported} == {
        ("1000004", "MIGRATE"),
        ("1000001", "COPILOT"),
        ("1000002", "COPILOT"),
        ("1000003", "COPILOT"),
    }


def test_the_sample_imports_for_a_program_manager_and_in_another_reps_name(
    demo_world: Any,
) -> None:
    from accounts.models import User
    from programs.models import Program

    program = Program.objects.get(code="DEMO-FY27")
    with time_machine.travel(date(2027, 1, 15), tick=False):
        # A program manager imports the shipped file: it names the demo rep (R-ELIG-5).
        job = import_preview(
            user=User.objects.get(username="pm"),
            program=program,
            upload=ContentFile(SAMPLE.read_bytes(), name=SAMPLE.name),
        )
        assert (job.good_rows, job.bad_rows) == (4, 0), job.bad()
        assert {r["values"]["nominated_by_username"] for r in job.rows} == {"rep"}
        # Another field rep's copy names that rep, so it imports as it is too.
        other = user_for_role(Role.FIELD_REP, username="ravi.other")
        copy = as_user(other).get("/imports/sample.csv").content
        assert b",ravi.other" in copy and b",rep\n" not in copy
        mine = import_preview(
            user=other, program=program, upload=ContentFile(copy, name="sample.csv")
        )
        assert (mine.good_rows, mine.bad_rows) == (4, 0), mine.bad()
    for role in (Role.CUSTOMER, Role.PARTNER, Role.REVIEWER):
        assert as_user(user_for_role(role)).get("/imports/sample.csv").status_code == 404


# -- management command --------------------------------------------------------------------------


def test_management_command_previews_and_commits(world: Any, tmp_path: Path) -> None:
    rep = world["rep"]
    customers = [CustomerFactory() for _ in range(3)]
    path = tmp_path / "noms.csv"
    path.write_text(
        csv_text(
            *(f"{c.tpid},DEPLOY,M365_E3,200000,2024-05-20,," for c in customers),
            f"{customers[0].tpid},MIGRATE,M365_E3,200000,2024-05-20,competitor,",
        )
    )
    out = io.StringIO()
    call_command(
        "import_nominations", str(path), program="FY24-MWSDO", user=rep.username, stdout=out
    )
    assert "4 rows, 3 ready, 1 with errors" in out.getvalue()
    assert "row 5" in out.getvalue() and "R-OFFER-1" in out.getvalue()
    assert not Nomination.objects.exists()

    out = io.StringIO()
    call_command(
        "import_nominations",
        str(path),
        "--commit",
        program="FY24-MWSDO",
        user=rep.username,
        stdout=out,
    )
    assert "\r[" in out.getvalue() and "4/4" in out.getvalue()
    assert "Created 3 nominations" in out.getvalue()
    assert Nomination.objects.filter(nominated_by=rep).count() == 3
