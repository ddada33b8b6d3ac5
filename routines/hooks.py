"""What routines adds to the layers below it, which never import it (registered in RoutinesConfig.ready())."""

import datetime as dt

from django.db.models import Q, QuerySet

from education.models import Article
from portal.language import language_of
from portal.models import Patient

from .models import Plan, PlanStep
from .today import step_title


def plan_articles(patient: Patient, day: dt.date) -> QuerySet:
    """For education's /learn/ page and reading panel: ids of the articles of the patient's plans running on
    local date `day`: those linked to the plan and those explaining its steps (the step's, else its product's)."""
    plans = Plan.objects.active_on(day).filter(patient=patient)
    steps = PlanStep.objects.filter(plan__in=plans)
    return Article.objects.filter(
        Q(pk__in=plans.values("articles"))
        | Q(pk__in=steps.values("article"))
        | Q(pk__in=steps.filter(article__isnull=True).values("product__default_article"))
    ).values("pk")


def article_uses(patient: Patient, day: dt.date, article: Article) -> list[tuple[str, str]]:
    """For education's article page: [(step title, how often)] of the steps of the plan the patient follows on
    local date `day` that `article`'s topic explains (the step's article, else its product's), in the patient's
    language. Three queries (the plan, those steps, their phases)."""
    topic = article.translation_of_id or article.pk
    versions = Article.objects.filter(Q(pk=topic) | Q(translation_of=topic)).values("pk")
    explained = Q(article__in=versions) | Q(article__isnull=True, product__default_article__in=versions)
    plan = Plan.objects.current_for(patient, day, steps=PlanStep.objects.filter(explained))
    if plan is None:
        return []
    language = language_of(patient)
    return [(step_title(step, language), step.frequency_text) for step in plan.ordered_steps()]


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
