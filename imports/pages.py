"""The bulk import pages: upload and check a file, see every refused row with its rule,
create the good rows and follow the progress."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.csvsafe import csv_safe
from core.errors import ApplicationError
from core.pages import add_refusal
from core.scopes import acting_user, has_scope
from imports.models import ImportJob
from imports.parsing import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    REPORT_COLUMNS,
    REQUIRED_COLUMNS,
    column_key,
)
from imports.services import import_preview, import_queue
from nominations.forms import open_programs
from programs.models import Program

BAD_ROWS_PER_PAGE = 100
GOOD_ROWS_SHOWN = 20


class UploadForm(forms.Form):
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(), to_field_name="code", empty_label=None
    )
    file = forms.FileField(
        label="Nominations file",
        help_text=(
            f"CSV (UTF-8, comma or semicolon separated) or Excel .xlsx (first sheet), up to "
            f"{MAX_BYTES // 1024 // 1024} MB and {MAX_ROWS:,} rows below the header (blank "
            "rows count)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = open_programs()  # type: ignore[attr-defined]


def _require_importer(request: HttpRequest) -> None:
    """Field reps import their nominations, program managers import for field reps; to
    anyone else the pages do not exist."""
    user = acting_user(request)
    if not (has_scope(user, "nominations:write") or has_scope(user, "nominations:decide")):
        raise Http404


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return get_object_or_404(
        ImportJob.objects.select_related("program"), pk=pk, uploaded_by=acting_user(request)
    )


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    user = acting_user(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_preview(
                user=user, program=form.cleaned_data["program"], upload=form.cleaned_data["file"]
            )
        except ApplicationError as exc:
            add_refusal(form, exc)
        else:
            return redirect("import-detail", pk=job.pk)
    jobs = ImportJob.objects.filter(uploaded_by=user).select_related("program").defer("rows")
    return render(
        request,
        "imports/list.html",
        {
            "form": form,
            "jobs": jobs[:20],
            "required_columns": REQUIRED_COLUMNS,
            "optional_columns": [c for c in COLUMNS if c not in REQUIRED_COLUMNS],
            "manager": has_scope(user, "nominations:decide"),
        },
    )


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_importer(request)
    job = _job(request, pk)
    bad = Paginator(job.bad(), BAD_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    good = job.good()
    return render(
        request,
        "imports/detail.html",
        {
            "job": job,
            "page": bad,
            "good": good[:GOOD_ROWS_SHOWN],
            "more_good": max(0, len(good) - GOOD_ROWS_SHOWN),
            "can_commit": job.status in (ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED)
            and job.good_rows > job.created_count,
            "to_create": job.good_rows - job.created_count,
        },
    )


@login_required
@require_POST
def import_commit_page(request: HttpRequest, pk: int) -> HttpResponse:
    _require_importer(request)
    job = _job(request, pk)
    try:
        import_queue(job_id=job.pk, user=acting_user(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("import-detail", pk=job.pk)


@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the progress bar, polled every second while the job is queued or running.
    Once it has finished the partial carries no trigger (polling stops) and the page
    reloads once to show the final report."""
    _require_importer(request)
    job = _job(request, pk)
    response = render(request, "imports/_progress.html", {"job": job})
    if not job.in_progress and getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response


def _report_columns(job: ImportJob) -> list[tuple[str, str | None, int | None]]:
    """The file's columns as uploaded: (header, key in `raw` or None, index in `extra` or
    None). A job previewed before the header was kept gives the columns it read."""
    if not job.columns:
        bad = job.bad()
        return [(c, c, None) for c in COLUMNS if any(c in r["raw"] for r in bad)]
    columns: list[tuple[str, str | None, int | None]] = []
    extra = 0
    for header in job.columns:
        key = column_key(header)
        if key in COLUMNS:
            columns.append((header, key, None))
        else:
            columns.append((header, None, extra))
            extra += 1
    return columns


def _at(values: list[str], index: int | None) -> str:
    return values[index] if index is not None and index < len(values) else ""


@login_required
def import_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """One line per refused row: its spreadsheet row, its rule IDs and sentences, then
    every column of the file as uploaded, so the rep corrects the cells and imports the
    report itself (the report's own columns are left out when it is read back)."""
    _require_importer(request)
    job = _job(request, pk)
    columns = _report_columns(job)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    response.write("\ufeff")  # Excel then reads the file as UTF-8
    writer = csv.writer(response)
    writer.writerow([*REPORT_COLUMNS, *(csv_safe(header) for header, _k, _i in columns)])
    for row in job.bad():
        violations = row["violations"]
        extra = row.get("extra", [])
        cells = [
            row["raw"].get(key, "") if key else _at(extra, index) for _header, key, index in columns
        ]
        writer.writerow(
            [
                csv_safe(row["row"]),
                csv_safe("; ".join(dict.fromkeys(v["rule"] for v in violations))),
                csv_safe(" | ".join(f"{v['rule']}: {v['message']}" for v in violations)),
                *(csv_safe(cell) for cell in cells),
            ]
        )
    return response


SAMPLE = Path(__file__).resolve().parent / "sample-nominations.csv"
SAMPLE_REP = "rep"  # the demo field rep the shipped sample nominates for (portal.demo)


@login_required
def import_sample_csv(request: HttpRequest) -> HttpResponse:
    """The sample file (the demo customers, DEMO-FY27). A field rep's copy names that rep
    in `nominated_by`, so it imports as it is; a program manager's names the demo rep."""
    _require_importer(request)
    user = acting_user(request)
    text = SAMPLE.read_text(encoding="utf-8")
    if not has_scope(user, "nominations:decide"):
        rows = list(csv.reader(io.StringIO(text)))
        at = rows[0].index("nominated_by") if "nominated_by" in rows[0] else None
        for row in rows[1:]:
            if at is not None and len(row) > at and row[at] == SAMPLE_REP:
                row[at] = user.username
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(
            [rows[0], *([csv_safe(c) for c in r] for r in rows[1:])]
        )
        text = out.getvalue()
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sample-nominations.csv"'
    return response
