"""What routines adds to the layers below it, which never import it (registered in RoutinesConfig.ready())."""

import datetime as dt

from auditlog.models import LogEntry
from django.db.models import QuerySet

from portal.models import Patient

from .models import Plan


def plan_articles(patient: Patient, day: dt.date) -> QuerySet:
    """For education's /learn/ page: ids of the articles linked to the patient's plans running on local date `day`."""
    return Plan.objects.active_on(day).filter(patient=patient).values("articles")


def anonymise_plan_history(*, patient: Patient) -> None:
    """For portal's `anonymise_patient`: rename the patient's plans in the change history.

    A plan's name ("Milia care for Alice Smith (C-1001)") says whose it is; this runs
    once the patient is anonymised, so the new name points at the anonymous record.
    """
    for plan in Plan.objects.filter(patient=patient).select_related("patient__user"):
        LogEntry.objects.get_for_object(plan).update(object_repr=str(plan), serialized_data=None)
