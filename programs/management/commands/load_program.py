from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ApplicationError
from programs.services import program_load


class Command(BaseCommand):
    help = "Loads a program's data file (e.g. `fy24`); running it twice changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "name", help="A name under programs/data/ (fy24) or a path to a .toml file."
        )

    def handle(self, *args: object, **options: str) -> None:
        try:
            report = program_load(name=options["name"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if report.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{report.program}: loaded ({report.created} created, "
                    f"{report.updated} updated, {report.deleted} removed)."
                )
            )
        else:
            self.stdout.write(f"{report.program}: already up to date; nothing changed.")
        for overlap in report.overlaps:
            self.stdout.write(self.style.WARNING(f"Overlap: {overlap}"))
