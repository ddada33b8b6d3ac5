import json

from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from portal.models import AccessLog, Patient


def rows(queryset) -> list[dict]:
    return [{"model": r["model"], "id": r["pk"], **r["fields"]} for r in serializers.serialize("python", queryset)]


def history_rows(model, **lookup) -> list[dict] | None:
    """The saved copies (simple-history) of `model`'s rows matching `lookup`, oldest first; None if it keeps none.

    They hold the patient's data as it was (old phone numbers, a plan's earlier steps), so they are theirs too.
    """
    manager = getattr(model._meta, "simple_history_manager_attribute", None)
    if manager is None:
        return None
    copies = getattr(model, manager).filter(**lookup).order_by("history_date", "history_id")
    serialized = serializers.serialize("python", copies)
    return [{"model": r["model"], "history_id": r["pk"], **r["fields"]} for r in serialized]


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
    record["patient.history"] = history_rows(Patient, id=patient.pk)
    # Clinical rows (plans, their steps, the steps' ticks and phases, reminders, ...) from
    # whichever apps hold them, however deep: a tick hangs off a step, which hangs off a plan.
    listed = ("invitations", "access_logs")
    direct = [r for r in Patient._meta.related_objects if r.one_to_many and r.get_accessor_name() not in listed]
    held = {relation.related_model for relation in direct}
    for relation in direct:
        name = relation.get_accessor_name()
        ids = _add_rows(record, name, relation.related_model, **{relation.field.name: patient})
        _add_descendants(record, name, relation.related_model, ids, held)
    return record


def _add_rows(record: dict, key: str, model, **lookup) -> set:
    """Put `model`'s rows matching `lookup` under `key` and their saved copies under "<key>.history".

    Returns the ids of the rows, those deleted since (known from their copies) included.
    """
    record[key] = rows(model.objects.filter(**lookup))
    ids = {row["id"] for row in record[key]}
    copies = history_rows(model, **lookup)
    if copies is not None:
        record[f"{key}.history"] = copies
        ids |= {copy["id"] for copy in copies}
    return ids


def _add_descendants(record: dict, name: str, model, ids: set, held: set, depth: int = 1) -> None:
    """Add the rows pointing at the `model` rows `ids` (one-to-many, any depth) under keys like "plans.steps.checks".

    Models in `held` point at the patient too and are listed on their own (reminders, acknowledgements): skipped.
    """
    if depth > 5:  # the clinical models nest three deep; a guard against a future cycle
        return
    for relation in model._meta.related_objects:
        related = relation.related_model
        if not relation.one_to_many or related in held:
            continue
        key = f"{name}.{relation.get_accessor_name()}"
        children = _add_rows(record, key, related, **{f"{relation.field.name}__in": ids})
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
