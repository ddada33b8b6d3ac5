"""The dermatologist's admin home: what needs attention today, each row one click from its action.

Four panels, each shown only to staff with the permission to see (and act on) it:
open skin flags, patients on a running plan who have not ticked for 3+ of their
own days, procedures in the next 14 days with the steps they pause, and articles
due for medical review. Each panel reads a bounded number of rows (`LIMIT`, plus
one to know there are more) in a fixed number of queries, however large the clinic.

It lives here, not in portal, because it reads routines' and education's models;
portal's admin index shows it through `portal.admin_site.register_home` (apps.py).
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import F, Prefetch, Q
from django.template.response import TemplateResponse
from django.utils import timezone

from education.models import Article
from portal.models import Patient

from .models import IrritationFlag, Plan, Procedure

LIMIT = 20  # rows a panel lists; the rest are a "see all" link away
QUIET_DAYS = 3
PROCEDURE_DAYS = 14
REVIEW_AHEAD_DAYS = 30  # articles whose review falls due within this many days are listed too


@dataclass
class Rows:
    """Up to `LIMIT` rows of a panel, and whether there are more than that."""

    rows: list
    more: bool


def _first(queryset) -> Rows:
    rows = list(queryset[: LIMIT + 1])
    return Rows(rows=rows[:LIMIT], more=len(rows) > LIMIT)


def open_flags():
    """Skin flags waiting for review, oldest first, with their patients."""
    return IrritationFlag.objects.open().select_related("patient__user").order_by("raised_on", "pk")


def quiet_condition(now: dt.datetime, *, days: int = QUIET_DAYS) -> Q:
    """Patients with a running plan whose last tick is `days` or more of their own local days ago, or who never
    ticked: a filter on Patient. One condition per time zone in use (one query to list them), so each
    patient's "today" is their own. (The patient list's "Not checked in for 3+ days" filter means the same.)
    """
    stale = Q(pk__in=[])
    for zone in Patient.objects.values_list("time_zone", flat=True).distinct().order_by():
        today = Patient(time_zone=zone).local_today(now)
        quiet = Q(last_check_in_on__isnull=True) | Q(last_check_in_on__lte=today - dt.timedelta(days=days))
        stale |= Q(time_zone=zone, pk__in=Plan.objects.active_on(today).values("patient_id")) & quiet
    return stale


def quiet_patients(now: dt.datetime, *, days: int = QUIET_DAYS):
    """The patients of `quiet_condition`, longest quiet first (never-ticked at the top), with their logins."""
    order = F("last_check_in_on").asc(nulls_first=True)
    return Patient.objects.filter(quiet_condition(now, days=days)).select_related("user").order_by(order, "pk")


def upcoming_procedures(first: dt.date, last: dt.date):
    """Procedures on local dates `first`..`last`, soonest first, with their patients, types and the patients'
    active plans running in that window (steps and products prefetched): `paused_steps` then needs no query.
    """
    plans = Plan.objects.active_between(first, last).prefetch_related(Plan.steps_prefetch())
    return (
        Procedure.objects.filter(date__range=(first, last))
        .select_related("patient__user", "type")
        .prefetch_related(Prefetch("patient__plans", queryset=plans, to_attr="window_plans"))
        .order_by("date", "pk")
    )


def paused_steps(procedure: Procedure) -> tuple[Plan | None, list]:
    """(the plan the patient follows on the procedure's date, its steps the procedure pauses), from
    `upcoming_procedures`' prefetch. (None, []) if no active plan covers that date."""
    plan = Plan.followed(plan for plan in procedure.patient.window_plans if plan.covers(procedure.date))
    if plan is None:
        return None, []
    return plan, [step for step in plan.ordered_steps() if procedure.type.stops(step.product)]


def articles_due(today: dt.date, *, ahead: int = REVIEW_AHEAD_DAYS):
    """Published articles whose review is overdue, never scheduled, or due within `ahead` days; soonest first."""
    order = F("next_review_due").asc(nulls_first=True)
    due = Article.objects.review_overdue(today + dt.timedelta(days=ahead))
    return due.only("pk", "title", "language", "next_review_due").order_by(order, "title")


def worklist_view(request, context: dict) -> TemplateResponse:
    """The worklist page (`portal.admin_site.AdminHome.view`): each panel only with the permissions it needs.

    `?mine=1` keeps the patient panels to the patients whose dermatologist is the user.
    """
    now = timezone.now()
    today = timezone.localdate(now)  # the clinic's date (TIME_ZONE is CLINIC_TIME_ZONE)
    user = request.user
    mine = request.GET.get("mine") == "1"
    context.update(
        today=today, mine=mine, quiet_days=QUIET_DAYS, procedure_days=PROCEDURE_DAYS, review_days=REVIEW_AHEAD_DAYS
    )
    if user.has_perm("routines.view_irritationflag"):
        flags = open_flags()
        context["flags"] = _first(flags.filter(patient__dermatologist=user) if mine else flags)
        context["can_review_flags"] = user.has_perm("routines.change_irritationflag")
        context["action_checkbox_name"] = ACTION_CHECKBOX_NAME
    if user.has_perm("portal.view_patient") and user.has_perm("routines.view_stepcheck"):
        patients = quiet_patients(now)
        quiet = _first(patients.filter(dermatologist=user) if mine else patients)
        for patient in quiet.rows:
            last = patient.last_check_in_on
            patient.quiet_for = (patient.local_today(now) - last).days if last else None
        context["quiet"] = quiet
    if user.has_perm("routines.view_procedure") and user.has_perm("routines.view_planstep"):
        booked = upcoming_procedures(today, today + dt.timedelta(days=PROCEDURE_DAYS))
        procedures = _first(booked.filter(patient__dermatologist=user) if mine else booked)
        for procedure in procedures.rows:
            procedure.plan, procedure.paused = paused_steps(procedure)
        context["procedures"] = procedures
    if user.has_perm("education.change_article"):
        articles = _first(articles_due(today))
        for article in articles.rows:
            article.overdue = article.next_review_due is None or article.next_review_due < today
        context["articles"] = articles
    return TemplateResponse(request, "admin/routines/worklist.html", context)
