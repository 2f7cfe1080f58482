"""Creating an import's nominations in chunks, safe to run twice; what the import worker runs.
It enqueues nothing, so the task can import it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.choices import LicensingChannel, Role
from core.errors import Violation
from core.models import Event
from core.scopes import effective_role
from customers.models import Customer
from imports.models import ImportJob
from imports.parsing import FORMAT
from imports.services.preview import (
    CHUNK,
    ProgressCallback,
    _money,
    _stored_deal,
    _violations,
    held_groups_by_customer,
)
from nominations.models import Nomination
from nominations.rules import Evaluation, ProgramRules
from nominations.services import customer_facts
from programs.models import Program


def import_commit(*, job_id: int, progress: ProgressCallback | None = None) -> ImportJob:
    """Creates the good rows' nominations, CHUNK at a time, each chunk with its events, its
    outcomes and the job's cursor in one transaction. Every row is checked again first,
    against the nominations and vouchers saved since the preview (R-OFFER-1) and today's
    date; a row that no longer passes is marked bad, not created. A job already done does
    nothing; an interrupted one resumes after its last committed chunk. The outcomes are
    written into `rows` once, at the end (rewriting the rows after every chunk would make
    a 20,000-row import quadratic)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status == ImportJob.Status.DONE:
            return job
        job.status = ImportJob.Status.RUNNING
        job.save(update_fields=["status"])
    rows: list[dict[str, Any]] = job.rows  # read-only until the end: outcomes go aside
    rules = ProgramRules(Program.objects.get(pk=job.program_id))
    today = timezone.localdate()
    try:
        while True:
            with transaction.atomic():
                job = ImportJob.objects.select_for_update().defer("rows").get(pk=job_id)
                if job.status == ImportJob.Status.DONE:
                    return ImportJob.objects.get(pk=job_id)
                finished = _commit_chunk(job, rows, rules=rules, today=today)
            if progress is not None:
                progress(job.processed_rows, job.total_rows)
            if finished:
                break
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if job.status != ImportJob.Status.DONE:
                _merge_outcomes(job)
                job.status = ImportJob.Status.DONE
                job.processed_rows = job.total_rows
                job.finished_at = timezone.now()
                job.save(
                    update_fields=["rows", "outcomes", "status", "processed_rows", "finished_at"]
                )
    except Exception as exc:
        with transaction.atomic():
            ImportJob.objects.filter(pk=job_id).exclude(status=ImportJob.Status.DONE).update(
                status=ImportJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
            )
        raise
    return job


def _merge_outcomes(job: ImportJob) -> None:
    for key, outcome in job.outcomes.items():
        row = job.rows[int(key)]
        if "nomination" in outcome:
            row["nomination"] = outcome["nomination"]
        else:
            row["ok"] = False
            row["violations"] = outcome["violations"]
            row["refused_at_commit"] = True
    job.outcomes = {}


def _commit_chunk(
    job: ImportJob, rows: list[dict[str, Any]], *, rules: ProgramRules, today: date
) -> bool:
    """The next CHUNK good rows from the cursor on. True when none is left."""
    batch: list[int] = []
    cursor = job.processed_rows
    while cursor < len(rows) and len(batch) < CHUNK:
        if rows[cursor]["ok"]:
            batch.append(cursor)
        cursor += 1
    if not batch:
        job.processed_rows = job.total_rows
        job.save(update_fields=["processed_rows"])
        return True

    customer_ids = {rows[i]["values"]["customer"] for i in batch}
    customers = Customer.objects.in_bulk(customer_ids)
    nominators = User.objects.in_bulk({rows[i]["values"]["nominated_by"] for i in batch})
    held = held_groups_by_customer(program_id=job.program_id, customer_ids=customer_ids)
    pending: list[tuple[int, dict[str, Any], Evaluation]] = []
    for index in batch:
        values = rows[index]["values"]
        customer = customers.get(values["customer"])
        nominator = nominators.get(values["nominated_by"])
        if customer is None:
            _refuse(job, index, [Violation(FORMAT, "customer_tpid: the customer was removed.")])
            continue
        problems: list[Violation] = []
        if nominator is None or effective_role(nominator) != Role.FIELD_REP:
            problems.append(Violation("R-ELIG-5", "Only Microsoft field reps nominate customers."))
        evaluation = rules.evaluate(
            customer=customer_facts(customer),
            deal=_stored_deal(values),
            stage="nomination",
            today=today,
            held_groups=held[customer.pk],
        )
        problems.extend(evaluation.violations)
        if problems:
            _refuse(job, index, problems)
            continue
        held[customer.pk].add(evaluation.exclusive_group)
        pending.append((index, values, evaluation))

    created = _create(job, rules, pending)
    Event.objects.bulk_create(
        Event(
            subject="nomination",
            subject_id=nomination.pk,
            action="submitted",
            actor_id=job.uploaded_by_id,
            to_state=nomination.status,
            data={
                "import": job.pk,
                "row": rows[index]["row"],
                "estimated_value": _money(nomination.estimated_value),
                "cap_row": evaluation.cap.row_key if evaluation.cap else "",
            },
        )
        for index, nomination, evaluation in created
    )
    job.created_count += len(created)
    job.processed_rows = cursor
    job.save(update_fields=["outcomes", "processed_rows", "created_count", "good_rows", "bad_rows"])
    return False


def _refuse(job: ImportJob, index: int, problems: list[Violation]) -> None:
    job.outcomes[str(index)] = {"violations": _violations(problems)}
    job.good_rows -= 1
    job.bad_rows += 1


def _nomination(
    job: ImportJob, rules: ProgramRules, values: dict[str, Any], ev: Evaluation
) -> Nomination:
    return Nomination(
        program_id=job.program_id,
        customer_id=values["customer"],
        offer=rules.offers[values["offer"]],
        exclusive_group=ev.exclusive_group,
        workloads=values["workloads"],
        deal_value=Decimal(values["deal_value"]),
        expected_close_date=date.fromisoformat(values["expected_close_date"]),
        agreement_type=values["agreement_type"],
        licensing_channel=values.get("licensing_channel", LicensingChannel.EA),
        upsell_expansion=values["upsell_expansion"],
        migration_sources=values["migration_sources"],
        ecif_funded=values["ecif_funded"],
        notes=values["notes"],
        nominated_by_id=values["nominated_by"],
        status=Nomination.Status.SUBMITTED,
        estimated_value=ev.suggested_value,
        estimated_cap=ev.cap.cap if ev.cap else None,
    )


def _create(
    job: ImportJob, rules: ProgramRules, pending: list[tuple[int, dict[str, Any], Evaluation]]
) -> list[tuple[int, Nomination, Evaluation]]:
    """One bulk insert; when the database refuses it (an open nomination in the same group
    saved by someone else meanwhile: nomination_one_open_per_group), row by row."""
    if not pending:
        return []
    try:
        with transaction.atomic():
            nominations = Nomination.objects.bulk_create(
                [_nomination(job, rules, values, ev) for _i, values, ev in pending]
            )
    except IntegrityError:
        created: list[tuple[int, Nomination, Evaluation]] = []
        for index, values, ev in pending:
            nomination = _nomination(job, rules, values, ev)
            try:
                with transaction.atomic():
                    nomination.save(force_insert=True)
            except IntegrityError:
                _refuse(
                    job,
                    index,
                    [
                        Violation(
                            "R-OFFER-1",
                            f"{values['customer_name']} already has an open nomination in the "
                            f"'{ev.exclusive_group}' group of this program (saved since the "
                            "preview).",
                        )
                    ],
                )
                continue
            job.outcomes[str(index)] = {"nomination": nomination.pk}
            created.append((index, nomination, ev))
        return created
    for (index, _values, _ev), nomination in zip(pending, nominations, strict=True):
        job.outcomes[str(index)] = {"nomination": nomination.pk}
    return [(i, n, ev) for n, (i, _values, ev) in zip(nominations, pending, strict=True)]
