from django.core.management.base import BaseCommand, CommandError

from anagen.core.demo import DEMO_PASSWORD, database_is_empty, demo_logins, load_demo


class Command(BaseCommand):
    help = ("Load demo data: two clinics plus video consultations, one staff member per role, patients "
            "with histories, consents, screenings, appointments, treatments and measured follow-ups. "
            "Deterministic from --seed.")

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="only load when the database has no clinics yet")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--patients", type=int, default=220)

    def handle(self, *args, **opts):
        if opts["patients"] < 1:
            raise CommandError("--patients must be at least 1.")
        if opts["if_empty"] and not database_is_empty():
            self.stdout.write("Database already has data: demo data not loaded.")
        else:
            summary = load_demo(seed=opts["seed"], n_patients=opts["patients"], log=self.stdout.write)
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}"))
        self.stdout.write("\nDemo logins (password for all: %s):" % DEMO_PASSWORD)
        for role, email in demo_logins():
            self.stdout.write(f"  {role:<14} {email}")
        self.stdout.write("")
