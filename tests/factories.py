"""The one place tests build objects: factory_boy factories over the real models.

Every factory saves to the database (`Factory()`); defaults make a valid, unremarkable
object, and a test names only the fields its assertions depend on.
"""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory

from education.models import Article
from portal import roles
from portal.models import Patient
from routines import schedule
from routines.models import Product, SkinCheckIn

PASSWORD = "correct-horse-battery-9"
TODAY = dt.date(2027, 3, 10)  # a Wednesday
NOON_UTC = "2027-03-10T17:00:00Z"  # noon in New York, so the patient's local date is TODAY


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    first_name = factory.LazyAttribute(lambda user: user.username.title())
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    """A staff login in one role: `StaffFactory(role=roles.FRONT_DESK)`; a dermatologist by default."""

    is_staff = True

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        user.groups.add(Group.objects.get(name=extracted or roles.DERMATOLOGIST))


class PatientFactory(DjangoModelFactory):
    """A patient with a login: `PatientFactory(username="alice", chart_number="C-1001")`."""

    class Meta:
        model = "portal.Patient"

    class Params:
        username = factory.Sequence(lambda n: f"patient{n}")

    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..username"), last_name="Tester")
    chart_number = factory.Sequence(lambda n: f"T-{n:05d}")
    date_of_birth = dt.date(1990, 1, 1)
    time_zone = "America/New_York"


class ConditionFactory(DjangoModelFactory):
    class Meta:
        model = "education.Condition"

    name = factory.Sequence(lambda n: f"Condition {n}")
    slug = factory.LazyAttribute(lambda condition: condition.name.lower().replace(" ", "-"))


class ArticleFactory(DjangoModelFactory):
    """A published article; its title follows its slug. `conditions=[...]` links it to conditions."""

    class Meta:
        model = "education.Article"
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"article-{n}")
    title = factory.LazyAttribute(lambda article: article.slug.replace("-", " ").title())
    body = "Short and clear."
    status = Article.Status.PUBLISHED

    @factory.post_generation
    def conditions(article, create, extracted, **kwargs):
        if extracted:
            article.conditions.set(extracted)


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = "routines.Product"

    name = factory.Sequence(lambda n: f"Product {n}")


class TemplateStepFactory(DjangoModelFactory):
    class Meta:
        model = "routines.TemplateStep"

    template = factory.SubFactory("tests.factories.RoutineTemplateFactory", steps=[])
    product = factory.SubFactory(ProductFactory)
    instructions = "Apply"


# The Milia care template: two morning steps, glycolic and retinol on alternate evenings.
MILIA_STEP_COLUMNS = ("slot", "order", "product__name", "product__category", "instructions")
GLYCOLIC_EVENINGS = {
    "frequency": schedule.EVERY_N_DAYS,
    "interval_days": 2,
    "wait_minutes": 10,
    "caution": "Keep away from the eyes",
}
RETINOL_EVENINGS = {"frequency": schedule.EVERY_N_DAYS, "interval_days": 2, "offset_days": 1}
MILIA_TEMPLATE_STEPS = [  # the columns above, then any other TemplateStep fields
    (schedule.MORNING, 1, "Exfoliating Cleanser", Product.Category.CLEANSER, "Small circles", {}),
    (schedule.MORNING, 2, "Sunscreen SPF 30", Product.Category.SUNSCREEN, "Apply", {"product__spf": 30}),
    (schedule.EVENING, 1, "Glycolic Serum", Product.Category.SERUM, "Thin layer", GLYCOLIC_EVENINGS),
    (schedule.EVENING, 2, "Retinol Serum", Product.Category.RETINOID, "Pea-sized amount", RETINOL_EVENINGS),
]  # fmt: skip


class RoutineTemplateFactory(DjangoModelFactory):
    """The Milia care template and its four steps; `steps=[{...}, ...]` gives other steps (TemplateStep fields)."""

    class Meta:
        model = "routines.RoutineTemplate"
        skip_postgeneration_save = True

    name = "Milia care"

    @factory.post_generation
    def steps(template, create, extracted, **kwargs):
        if extracted is None:
            extracted = [
                {**dict(zip(MILIA_STEP_COLUMNS, row, strict=False)), **row[-1]} for row in MILIA_TEMPLATE_STEPS
            ]
        for fields in extracted:
            TemplateStepFactory(template=template, **fields)


class PlanStepFactory(DjangoModelFactory):
    class Meta:
        model = "routines.PlanStep"

    plan = factory.SubFactory("tests.factories.PlanFactory", steps=0)
    product = factory.SubFactory(ProductFactory)
    instructions = factory.LazyAttribute(lambda step: f"Step number {step.order}")


# A plan as the reminder tests know it: five steps without products, so each step's title is its instructions.
MILIA_CARE_STEPS = [
    dict(slot=schedule.MORNING, instructions="Gentle cleanser"),
    dict(slot=schedule.MORNING, instructions="Sunscreen SPF 30"),
    dict(slot=schedule.EVENING, instructions="Gentle cleanser"),
    dict(
        slot=schedule.EVENING,
        instructions="Glycolic acid, thin layer",
        frequency=schedule.EVERY_N_DAYS,
        interval_days=2,
    ),
    dict(slot=schedule.EVENING, instructions="Moisturizer"),
]


class PlanFactory(DjangoModelFactory):
    """A running plan from TODAY.

    `steps=N` (3 by default): N daily steps, morning and evening alternately, each with its own
    product and the instructions "Step number n". `steps=[{...}, ...]`: one step per dict of
    PlanStep fields, in that order and without a product unless one is given (MILIA_CARE_STEPS).
    `articles=[...]` links articles to the plan.
    """

    class Meta:
        model = "routines.Plan"
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    name = "Test routine"
    start_date = TODAY

    @factory.post_generation
    def articles(plan, create, extracted, **kwargs):
        if extracted:
            plan.articles.set(extracted)

    @factory.post_generation
    def steps(plan, create, extracted, **kwargs):
        if extracted is None or isinstance(extracted, int):
            for n in range(3 if extracted is None else extracted):
                PlanStepFactory(plan=plan, slot=schedule.MORNING if n % 2 == 0 else schedule.EVENING, order=n)
        else:
            for order, fields in enumerate(extracted):
                PlanStepFactory(plan=plan, order=order, **{"product": None, **fields})


class PlanPhaseFactory(DjangoModelFactory):
    class Meta:
        model = "routines.PlanPhase"

    step = factory.SubFactory(PlanStepFactory)


class StepCheckFactory(DjangoModelFactory):
    class Meta:
        model = "routines.StepCheck"
        skip_postgeneration_save = True

    step = factory.SubFactory(PlanStepFactory)
    local_date = TODAY

    @factory.post_generation
    def last_check_in(check, create, extracted, **kwargs):
        """Keep the patient's stored last check-in date, as ticking through the portal does."""
        if create:
            check._meta.model.objects.record_last_check_ins(Patient.objects.filter(plans=check.step.plan_id))


class CautionAcknowledgementFactory(DjangoModelFactory):
    """The patient read the caution of one of their plan's steps."""

    class Meta:
        model = "routines.CautionAcknowledgement"

    step = factory.SubFactory(PlanStepFactory, caution="Keep away from the eyes")
    patient = factory.SelfAttribute("step.plan.patient")
    plan_version = factory.SelfAttribute("step.plan.version")
    caution = factory.SelfAttribute("step.caution")


class ProcedureTypeFactory(DjangoModelFactory):
    class Meta:
        model = "routines.ProcedureType"
        django_get_or_create = ("name",)

    name = "chemical peel"


class ProcedureFactory(DjangoModelFactory):
    class Meta:
        model = "routines.Procedure"

    patient = factory.SubFactory(PatientFactory)
    type = factory.SubFactory(ProcedureTypeFactory)
    date = TODAY


class SkinCheckInFactory(DjangoModelFactory):
    class Meta:
        model = "routines.SkinCheckIn"

    patient = factory.SubFactory(PatientFactory)
    local_date = TODAY
    feeling = SkinCheckIn.Feeling.FINE


class ReminderFactory(DjangoModelFactory):
    """A pending morning email reminder for the plan's patient, due now."""

    class Meta:
        model = "reminders.Reminder"

    plan = factory.SubFactory(PlanFactory)
    patient = factory.SelfAttribute("plan.patient")
    slot = schedule.MORNING
    local_date = TODAY
    due_at = factory.LazyFunction(timezone.now)


def utc(*args) -> dt.datetime:
    """An aware datetime in UTC: `utc(2027, 3, 2, 13, 0)`."""
    return dt.datetime(*args, tzinfo=dt.UTC)


class MiliaCarePlanFactory(PlanFactory):
    """A plan as the reminder tests know it: "Milia care" from 1 January 2027 with the five MILIA_CARE_STEPS
    (no products, so each step's title is its instructions); `steps=[{...}, ...]` gives others, also without
    products unless one is given."""

    name = "Milia care"
    start_date = dt.date(2027, 1, 1)

    @factory.post_generation
    def steps(plan, create, extracted, **kwargs):
        PlanFactory.steps.function(plan, create, MILIA_CARE_STEPS if extracted is None else extracted, **kwargs)


class InvitationFactory(DjangoModelFactory):
    """An open portal invitation for the patient."""

    class Meta:
        model = "portal.Invitation"

    patient = factory.SubFactory(PatientFactory)


class IrritationFlagFactory(DjangoModelFactory):
    """An open skin flag, raised today."""

    class Meta:
        model = "routines.IrritationFlag"

    patient = factory.SubFactory(PatientFactory)
    raised_on = TODAY
    reason = "Red and sore twice"


class AccessLogFactory(DjangoModelFactory):
    """A row of the access log: the patient viewed their today page, now (`at=` for another time)."""

    class Meta:
        model = "portal.AccessLog"

    patient = factory.SubFactory(PatientFactory)
    user = factory.SelfAttribute("patient.user")
    action = "view"
    what = "Today page"
    path = "/"
