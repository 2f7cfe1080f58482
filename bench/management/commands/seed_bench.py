from django.core.management.base import BaseCommand, CommandParser

from bench.seed import LIVE_PROGRAM, PAST_PROGRAM, bench_seed
from programs.models import Program
from programs.services import program_load


class Command(BaseCommand):
    help = (
        "Adds a realistic benchmark data set with bulk inserts (COPY on PostgreSQL): "
        "customers, partners, nominations, vouchers in every status, requests, payments, events."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vouchers", type=int, default=1000, help="How many vouchers.")
        parser.add_argument("--seed", type=int, default=9, help="Random seed (same data).")

    def handle(self, *args: object, **options: object) -> None:
        # The live vouchers belong to the demo program (FY24 moved to today), the expired
        # ones to FY24 itself; both are loaded when missing (idempotent).
        for name, code in (("fy24", PAST_PROGRAM), ("demo", LIVE_PROGRAM)):
            if not Program.objects.filter(code=code).exists():
                program_load(name=name)
        report = bench_seed(vouchers=int(options["vouchers"]), seed=int(options["seed"]))  # type: ignore[call-overload]
        counts = ", ".join(f"{n} {name}" for name, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Seeded {counts}."))
