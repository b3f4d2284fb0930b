"""``anagen fhir export``: FHIR R4 from the command line.

    anagen fhir export --patient AN-000123              # a patient's Bundle, as JSON on stdout
    anagen fhir export --all --out DIR [--clinic CODE] [--deidentified]   # NDJSON per resource type

Run on the server, the command sees every clinic (whoever can run it can read the database);
``--user EMAIL`` applies that staff member's role and clinics instead and records the export
under their name. Every export is recorded in the export log and the audit trail.
"""

from __future__ import annotations

import json
from contextlib import nullcontext

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from anagen.accounts.models import User
from anagen.core.errors import ActionError
from anagen.patients.models import Patient

from ... import selectors, services, validation
from ...models import ExportScope, ExportVia


class Command(BaseCommand):
    help = "Export FHIR R4: `fhir export --patient NUMBER` prints a Bundle; `fhir export --all --out DIR` writes NDJSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="export FHIR R4 resources")
        which = export.add_mutually_exclusive_group(required=True)
        which.add_argument("--patient", metavar="NUMBER", help="one patient, by patient number (e.g. AN-000123)")
        which.add_argument("--all", action="store_true", help="every patient (of --clinic), as NDJSON files")
        export.add_argument("--out", metavar="DIR", help="folder for the NDJSON files (with --all)")
        export.add_argument("--clinic", metavar="CODE", help="only this clinic's patients (its code, e.g. birmingham)")
        export.add_argument("--deidentified", action="store_true",
                            help="leave out identity: names, birth date (age band instead), contact details, free "
                                 "text and photographs; ids become stable pseudonyms")
        export.add_argument("--user", metavar="EMAIL", help="export as this staff member (their role and clinics)")
        export.add_argument("--base-url", default="http://127.0.0.1:8000",
                            help="the site's address, for fullUrl and image links (default %(default)s)")
        export.add_argument("--validate", action="store_true",
                            help="check every resource against the FHIR models before writing (slower)")

    def handle(self, *args, **opts):
        try:
            user = self._user(opts["user"])
            # The audit trail names the staff member the export is made as, as it would on the web.
            with set_actor(user) if user is not None else nullcontext():
                if opts["patient"]:
                    self._patient(opts, user)
                else:
                    self._all(opts, user)
        except ActionError as exc:
            raise CommandError(exc.message) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "That staff member's role does not allow this export.") from None
        except Http404 as exc:
            raise CommandError(str(exc) or "Not found, or not in a clinic that staff member works at.") from None
        except OSError as exc:  # the folder cannot be made or written
            raise CommandError(f"Could not write the export: {exc.strerror or exc} ({exc.filename}); "
                               f"choose a folder you may write to.") from None

    def _user(self, email: str | None):
        if not email:
            return None
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active staff member with e-mail {email}.")
        return user

    def _patient(self, opts, user) -> None:
        if opts["out"]:
            raise CommandError("--out is for --all; a patient's Bundle goes to standard output (redirect it).")
        number = opts["patient"].strip()
        patient = Patient.objects.filter(patient_number__iexact=number).select_related("clinic").first()
        if patient is None:
            raise CommandError(f"No patient with number {number}; numbers look like AN-000123.")
        if opts["clinic"] and patient.clinic.slug != opts["clinic"]:
            raise CommandError(f"Patient {number} is at {patient.clinic.name}, not {opts['clinic']}.")
        if user is not None:
            patient = selectors.patient_for_export(user=user, pk=patient.pk)
        export_opts = selectors.export_options(deidentified=opts["deidentified"], site_url=opts["base_url"])
        bundle = selectors.patient_bundle(patient, export_opts, base_url=f"{opts['base_url'].rstrip('/')}/api/v1/fhir")
        if opts["validate"]:
            validation.validate(bundle)
        services.export_record(actor=user, via=ExportVia.COMMAND, scope=ExportScope.PATIENT,
                               deidentified=opts["deidentified"], patient=patient, clinic=patient.clinic,
                               resource_counts=selectors.count_by_type(e["resource"] for e in bundle["entry"]))
        self.stdout.write(json.dumps(bundle, indent=2, ensure_ascii=False))

    def _all(self, opts, user) -> None:
        if not opts["out"]:
            raise CommandError("Give a folder for the NDJSON files: --out DIR.")
        deidentified = opts["deidentified"]
        if user is not None:
            deidentified = selectors.bulk_deidentified_for(user, True if deidentified else None)
        export_opts = selectors.export_options(deidentified=deidentified, site_url=opts["base_url"])
        manifest = services.bulk_export_write(actor=user, out_dir=opts["out"], opts=export_opts,
                                              clinic_code=opts["clinic"], user_scope=user, validate=opts["validate"])
        total = sum(o["count"] for o in manifest["output"])
        kind = "de-identified" if deidentified else "identified"
        self.stdout.write(f"Wrote {total} {kind} resources to {opts['out']}:")
        for o in manifest["output"]:
            self.stdout.write(f"  {o['url']}: {o['count']}")
