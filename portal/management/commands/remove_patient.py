from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.models import Patient
from portal.services import anonymise_patient


class Command(BaseCommand):
    help = (
        "Remove a patient from the portal: anonymise their identity (default) or delete their record "
        "(--delete). The access log and change history are kept either way."
    )

    def add_arguments(self, parser):
        parser.add_argument("chart_number")
        parser.add_argument("--delete", action="store_true", help="Delete the patient and their plans outright.")
        parser.add_argument("--yes", action="store_true", help="Confirm; nothing changes without it.")

    def handle(self, chart_number, delete=False, yes=False, **options):
        patient = Patient.objects.select_related("user").filter(chart_number__iexact=chart_number.strip()).first()
        if patient is None:
            raise CommandError(f"No patient with chart number {chart_number!r}.")
        if not yes:
            raise CommandError(f"This removes {patient}. Run again with --yes to confirm.")
        if delete:
            # Anonymise first, so the change history and login records keep nothing identifying.
            with transaction.atomic():
                anonymise_patient(patient=patient)
                patient.user.delete()  # cascades to the patient record and their plans
            self.stdout.write(f"Deleted patient {chart_number}. Access log rows remain, detached.")
        else:
            anonymise_patient(patient=patient)
            self.stdout.write(f"Anonymised patient {chart_number}; now {patient.chart_number}.")
