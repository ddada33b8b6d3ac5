import json

from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from portal.models import AccessLog, Patient


def rows(queryset) -> list[dict]:
    return [{"model": r["model"], "id": r["pk"], **r["fields"]} for r in serializers.serialize("python", queryset)]


def patient_record(patient: Patient) -> dict:
    """Everything the portal holds about `patient`, as JSON-ready data."""
    user = patient.user
    record = {
        "patient": rows(Patient.objects.filter(pk=patient.pk))[0],
        "user": {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        },
        "invitations": rows(patient.invitations.all()),
        "access_log": rows(AccessLog.objects.filter(patient=patient)),
    }
    record["patient"].pop("calendar_token", None)
    # Clinical rows (plans, their steps, the steps' ticks and phases, reminders, ...) from
    # whichever apps hold them, however deep: a tick hangs off a step, which hangs off a plan.
    listed = ("invitations", "access_logs")
    direct = [r for r in Patient._meta.related_objects if r.one_to_many and r.get_accessor_name() not in listed]
    held = {relation.related_model for relation in direct}
    for relation in direct:
        name = relation.get_accessor_name()
        children = getattr(patient, name).all()
        record[name] = rows(children)
        _add_descendants(record, name, relation.related_model, children, held)
    return record


def _add_descendants(record: dict, name: str, model, queryset, held: set, depth: int = 1) -> None:
    """Add the rows pointing at `queryset` (one-to-many, any depth) under dotted keys like "plans.steps.checks".

    Models in `held` point at the patient too and are listed on their own (reminders, acknowledgements): skipped.
    """
    if depth > 5:  # the clinical models nest three deep; a guard against a future cycle
        return
    for relation in model._meta.related_objects:
        related = relation.related_model
        if not relation.one_to_many or related in held or related._meta.app_label == "auditlog":
            continue
        key = f"{name}.{relation.get_accessor_name()}"
        children = related.objects.filter(**{f"{relation.field.name}__in": queryset})
        record[key] = rows(children)
        _add_descendants(record, key, related, children, held, depth + 1)


class Command(BaseCommand):
    help = "Export one patient's full record as JSON (for a patient's request for their data)."

    def add_arguments(self, parser):
        parser.add_argument("chart_number")
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")

    def handle(self, chart_number, output=None, **options):
        patient = Patient.objects.select_related("user").filter(chart_number__iexact=chart_number.strip()).first()
        if patient is None:
            raise CommandError(f"No patient with chart number {chart_number!r}.")
        text = json.dumps(patient_record(patient), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
            self.stdout.write(f"Wrote {output}")
        else:
            self.stdout.write(text)
