from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from portal.demo import DEMO_PASSWORD, demo_scenario, demo_seed
from programs.models import Program


class Command(BaseCommand):
    help = "Creates demo organisations and one login per role (idempotent), and prints the logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--program", default="DEMO-FY27", help="Program open today for demo vouchers."
        )

    def handle(self, *args: object, **options: object) -> None:
        first = (
            Program.objects.order_by("window_start").values_list("window_start", flat=True).first()
        )
        logins = demo_seed(fx_valid_from=first or timezone.localdate())
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD})"))
        for login in logins:
            org = f"  organisation {login.organisation}" if login.organisation else ""
            self.stdout.write(f"  {login.username:<10} {login.role:<16}{org}")
        for line in demo_scenario(program_code=str(options["program"])):
            self.stdout.write(f"  demo: {line}")
