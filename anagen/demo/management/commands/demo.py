import os

from django.core.management.base import BaseCommand, CommandError

from anagen.demo import DEMO_PASSWORD, database_is_empty, demo_logins, load_demo

MAX_PATIENTS = 800  # the Ofcom drama range holds 1,000 phone numbers, shared with the inquiries


class Command(BaseCommand):
    help = ("Load demo data: two clinics plus video consultations, one staff member per role, patients "
            "with histories, consents, screenings, appointments, treatments and measured follow-ups. "
            "Deterministic from --seed.")

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="only load when the database has no clinics yet")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--patients", type=int, default=220)
        parser.add_argument("--max-images", type=int, default=300,
                            help="cap on the phototrichograms drawn and analysed (where the time goes)")

    def handle(self, *args, **opts):
        if not 1 <= opts["patients"] <= MAX_PATIENTS:
            raise CommandError(f"--patients must be between 1 and {MAX_PATIENTS}.")
        if opts["max_images"] < 0:
            raise CommandError("--max-images must be 0 or more.")
        showcase_pk = None
        if opts["if_empty"] and not database_is_empty():
            self.stdout.write("Database already has data: demo data not loaded.")
            showcase_pk = _showcase_pk()
        else:
            if not database_is_empty():
                raise CommandError("The database already has clinics; the demo loads into an empty database only "
                                   "(use a fresh one, or --if-empty to skip).")
            summary = load_demo(seed=opts["seed"], n_patients=opts["patients"], max_images=opts["max_images"],
                                log=self.stdout.write)
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}"))
            if summary.failures:
                self.stdout.write(self.style.WARNING(f"{summary.failures} patient histories were refused by a rule "
                                                     "and left out (see above)."))
            showcase_pk = summary.showcase_pk
        self.stdout.write("\nDemo logins (password for all: %s):" % DEMO_PASSWORD)
        for role, email in demo_logins():
            self.stdout.write(f"  {role:<14} {email}")
        if showcase_pk:
            # On every start, not only the first: the address is what a newcomer opens first.
            self.stdout.write(f"\nFollow the showcase patient from inquiry to the 58-week chart and report "
                              f"(log in as clinician@anagen.example):\n  {_base_url()}/patients/{showcase_pk}/")
        study_pk = _completed_study_pk()
        if study_pk:
            self.stdout.write(f"\nThe completed split-scalp study's results, CONSORT diagram and PDF report "
                              f"(log in as statistician@anagen.example):\n  {_base_url()}/studies/{study_pk}/results/"
                              f"\nRead coded images blind (log in as evaluator@anagen.example):\n"
                              f"  {_base_url()}/studies/reading/")
        self.stdout.write("")


def _base_url() -> str:
    """Where ``make run`` serves: ``ANAGEN_BASE_URL``, else 127.0.0.1 on ``PORT`` (8000)."""
    return (os.environ.get("ANAGEN_BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}").rstrip("/")


def _completed_study_pk() -> int | None:
    from anagen.demo.split_study import REGISTRY_ID
    from anagen.studies.models import Study

    return Study.objects.filter(registry_id=REGISTRY_ID).values_list("pk", flat=True).first()


def _showcase_pk() -> int | None:
    """The showcase patient of an earlier demo load (the demo gives them this name)."""
    from anagen.patients.models import Patient

    return (Patient.objects.filter(first_name="Marcus", last_name="Bennett").order_by("pk")
            .values_list("pk", flat=True).first())
