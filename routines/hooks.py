"""What routines adds to the layers below it, which never import it (registered in RoutinesConfig.ready())."""

import datetime as dt

from django.db.models import QuerySet

from portal.models import Patient

from .models import Plan


def plan_articles(patient: Patient, day: dt.date) -> QuerySet:
    """For education's /learn/ page: ids of the articles linked to the patient's plans running on local date `day`."""
    return Plan.objects.active_on(day).filter(patient=patient).values("articles")


def anonymise_plan_history(*, patient: Patient) -> None:
    """For portal's `anonymise_patient`: the saved copies of the patient's plans (Plan.history) lose their old names.

    An old name ("Milia care for Alice") may say whose plan it was. Each copy takes its
    plan's current name; copies of plans deleted since have none to take.
    """
    copies = Plan.history.filter(patient=patient)
    names = dict(Plan.objects.filter(patient=patient).values_list("pk", "name"))
    for pk, name in names.items():
        copies.filter(id=pk).exclude(name=name).update(name=name)
    copies.exclude(id__in=names).update(name="(removed with the patient)")
