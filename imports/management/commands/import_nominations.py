"""`python manage.py import_nominations FILE --program CODE --user USERNAME [--commit]`"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from core.errors import ApplicationError
from imports.services import import_commit, import_preview
from programs.models import Program

BAR_WIDTH = 30
BAD_ROWS_SHOWN = 200


class Command(BaseCommand):
    help = (
        "Checks a CSV or XLSX file of nominations against the program rules and prints the "
        "rows with errors; with --commit creates the good rows as nominations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv or .xlsx file; the header row names the columns.")
        parser.add_argument("--program", required=True, help="The program code, e.g. FY24-MWSDO.")
        parser.add_argument(
            "--user",
            required=True,
            help="The uploading user: a field rep, or a program manager (rows name nominated_by).",
        )
        parser.add_argument(
            "--commit", action="store_true", help="Create the good rows' nominations."
        )
        parser.add_argument(
            "--all-errors",
            action="store_true",
            help=f"Print every bad row (default: the first {BAD_ROWS_SHOWN}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"No program {options['program']!r}.")
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['user']!r}.")
        try:
            with path.open("rb") as handle:
                job = import_preview(
                    user=user, program=program, upload=File(handle, name=path.name)
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

        self.stdout.write(
            f"Import {job.pk} of {path.name} into {program.code}: {job.total_rows} rows, "
            f"{job.good_rows} ready, {job.bad_rows} with errors."
        )
        self._print_bad(job.bad(), show_all=options["all_errors"])
        if not options["commit"]:
            self.stdout.write("Nothing created (add --commit to create the good rows).")
            return
        if not job.good_rows:
            raise CommandError("No row can be nominated; nothing created.")
        job = import_commit(job_id=job.pk, progress=self._progress)
        self.stdout.write("")
        refused = [r for r in job.bad() if r.get("refused_at_commit")]
        if refused:
            self.stdout.write(self.style.WARNING(f"{len(refused)} rows refused at commit:"))
            self._print_bad(refused, show_all=True)
        self.stdout.write(
            self.style.SUCCESS(f"Created {job.created_count} nominations (import {job.pk}).")
        )

    def _print_bad(self, rows: list[dict[str, Any]], *, show_all: bool) -> None:
        shown = rows if show_all else rows[:BAD_ROWS_SHOWN]
        for row in shown:
            tpid = row["raw"].get("customer_tpid", "") or "-"
            for violation in row["violations"]:
                self.stdout.write(
                    f"  row {row['row']} (TPID {tpid}): {violation['rule']} {violation['message']}"
                )
        if len(rows) > len(shown):
            self.stdout.write(f"  ... and {len(rows) - len(shown)} more rows (see --all-errors).")

    def _progress(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {done}/{total}", ending="")
        self.stdout.flush()
