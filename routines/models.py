import datetime as dt
import functools
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.models import Patient

from . import conflicts, schedule

PRODUCT_ARTICLE_HELP = "Explains this product; a step using it links this article unless the step names its own."
STEP_ARTICLE_HELP = "The article that explains this step (the patient's “Why?” link). Empty: the product's article."


class Product(models.Model):
    class Category(models.TextChoices):
        CLEANSER = "cleanser", "Cleanser"
        EXFOLIATOR = "exfoliator", "Exfoliator"
        SERUM = "serum", "Serum"
        RETINOID = "retinoid", "Retinoid"
        MOISTURIZER = "moisturizer", "Moisturizer"
        SUNSCREEN = "sunscreen", "Sunscreen"
        OTHER = "other", "Other"

    name = models.CharField(max_length=120)
    brand = models.CharField(max_length=120, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    key_ingredients = models.CharField(max_length=300, blank=True, help_text="Comma-separated, e.g. glycolic acid")
    spf = models.PositiveSmallIntegerField("SPF", null=True, blank=True, validators=[MaxValueValidator(100)])
    notes = models.TextField(blank=True)
    notes_es = models.TextField("notes in Spanish", blank=True)
    default_article = models.ForeignKey(
        "education.Article", models.SET_NULL, null=True, blank=True, related_name="+", help_text=PRODUCT_ARTICLE_HELP
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "brand"], name="product_unique_name_brand")]

    def __str__(self) -> str:
        return f"{self.name} ({self.brand})" if self.brand else self.name


class FrequencyFields(models.Model):
    """How often something is due: shared by steps and their ramp-up phases."""

    frequency = models.CharField(max_length=16, choices=schedule.FREQUENCY_CHOICES, default=schedule.DAILY)
    interval_days = models.PositiveSmallIntegerField(
        "every N days", default=1, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    offset_days = models.PositiveSmallIntegerField(
        "offset (days)", default=0, help_text="0 = from the first day; 1 = from the second day, so two steps alternate."
    )
    weekdays = models.CharField(max_length=7, blank=True, help_text="For chosen weekdays: 0 = Monday … 6 = Sunday.")

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        errors = schedule.schedule_errors(
            frequency=self.frequency,
            interval_days=self.interval_days,
            offset_days=self.offset_days,
            weekdays=self.weekdays,
        )
        if errors:
            raise ValidationError(errors)


# Where `Plan.steps_prefetch` puts a plan's steps, `PlanStep.phases_prefetch` a step's phases and
# `Procedure.holds_prefetch` a patient's procedures: plain lists (Prefetch `to_attr`), so a reader
# can tell whether they were prefetched.
STEP_LIST = "step_list"
PHASE_LIST = "phase_list"
PROCEDURE_LIST = "procedure_list"
FLAG_LIST = "irritation_flag_list"


class InTwoLanguages:
    """A model whose patient-facing texts are written in English with an optional Spanish wording, `<field>_es`."""

    def text_in(self, field: str, language: str) -> str:
        """`field` in `language`: the Spanish wording if there is one, else the English (never a blank)."""
        if language == "es":
            return getattr(self, f"{field}_es") or getattr(self, field)
        return getattr(self, field)


class StepFields(InTwoLanguages, FrequencyFields):
    """What a step is and when it is due; shared by template and plan steps.

    A step with ramp-up phases (`step.phases`) follows them instead of its own frequency.
    """

    slot = models.CharField("when", max_length=8, choices=schedule.SLOT_CHOICES, default=schedule.MORNING)
    order = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    instructions = models.CharField("what to do", max_length=300)
    wait_minutes = models.PositiveSmallIntegerField(
        "wait before next step (minutes)", default=0, validators=[MaxValueValidator(24 * 60)]
    )
    caution = models.CharField(max_length=300, blank=True)
    area = models.CharField(max_length=60, blank=True, default="face")
    # Spanish wording of the three texts above; empty means the patient reads the English.
    instructions_es = models.CharField("what to do, in Spanish", max_length=300, blank=True)
    caution_es = models.CharField("caution, in Spanish", max_length=300, blank=True)
    area_es = models.CharField("area, in Spanish", max_length=60, blank=True)
    article = models.ForeignKey(
        "education.Article", models.SET_NULL, null=True, blank=True, related_name="+", help_text=STEP_ARTICLE_HELP
    )

    class Meta:
        abstract = True
        ordering = ["slot", "order", "id"]

    def __str__(self) -> str:
        return f"{self.get_slot_display()}: {self.title}"

    @property
    def title(self) -> str:
        return self.product.name if self.product_id else self.instructions

    @property
    def parent(self) -> "RoutineTemplate | Plan":
        raise NotImplementedError

    def missing_spanish(self) -> list[str]:
        """Names of this step's texts that have English wording but no Spanish (for the admin's warning)."""
        return [
            field
            for field in ("instructions", "caution", "area")
            if getattr(self, field) and not getattr(self, f"{field}_es")
        ]

    def siblings(self):
        """The other steps of the same template or plan, with products and phases."""
        return self.parent.steps.exclude(pk=self.pk).select_related("product").prefetch_related("phases")

    def phase_values(self) -> tuple[schedule.Phase, ...]:
        """The ramp-up phases as plain values, in order.

        In loops, prefetch them with `PlanStep.phases_prefetch` (as `Plan.schedule_prefetches`
        does): that gives an unordered list, put in order here. Otherwise `phases` is read (or its cache).
        """
        if self.pk is None:
            return ()
        listed = getattr(self, PHASE_LIST, None)
        phases = self.phases.all() if listed is None else sorted(listed, key=lambda phase: (phase.order, phase.pk))
        return tuple(phase.as_value() for phase in phases)

    @property
    def frequency_text(self) -> str:
        return schedule.describe(self, self.phase_values())


class PhaseFields(FrequencyFields):
    """One stage of a step's ramp-up (see `schedule.Phase`)."""

    order = models.PositiveSmallIntegerField(default=0)
    days = models.PositiveSmallIntegerField(
        "lasts (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="14 = two weeks. Leave empty on the last phase: it runs until the plan ends.",
    )

    class Meta:
        abstract = True
        ordering = ["order", "id"]

    def __str__(self) -> str:
        value = self.as_value()
        words = schedule.describe(self.step, (value,))
        return f"{words} for {schedule.duration_words(self.days)}" if self.days else f"{words} until the plan ends"

    def as_value(self) -> schedule.Phase:
        return schedule.Phase(
            frequency=self.frequency,
            interval_days=self.interval_days,
            offset_days=self.offset_days,
            weekdays=self.weekdays,
            days=self.days,
        )


class RoutineTemplate(models.Model):
    name = models.CharField(max_length=120, unique=True)
    name_es = models.CharField("name in Spanish", max_length=120, blank=True)
    description = models.TextField(blank=True)
    articles = models.ManyToManyField("education.Article", blank=True, related_name="routine_templates")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def conflict_error(self, items: list[conflicts.Item]) -> str:
        """The admin's message if these steps would break a conflict rule for a plan started any weekday, else ""."""
        clash = conflicts.template_clash(items, ConflictRule.objects.values_for_check(), today=timezone.localdate())
        return clash.message(template=True) if clash else ""


class TemplateStep(StepFields):
    template = models.ForeignKey(RoutineTemplate, on_delete=models.CASCADE, related_name="steps")

    class Meta(StepFields.Meta):
        pass

    @property
    def parent(self) -> RoutineTemplate:
        return self.template


class TemplatePhase(PhaseFields):
    step = models.ForeignKey(TemplateStep, on_delete=models.CASCADE, related_name="phases")

    class Meta(PhaseFields.Meta):
        verbose_name = "ramp-up phase"


@functools.cache
def _patient_has_rows() -> dict[str, Exists]:
    """`with_steps`' annotations: whether the plan's patient has any procedure, any irritation flag.

    Built once, not on every page view: an expression is only a description (`annotate` resolves its
    own copy against each queryset), and building the two subqueries anew was a good part of the
    today page's work.
    """
    return {
        "has_procedures": Exists(Procedure.objects.filter(patient_id=OuterRef("patient_id"))),
        "has_flags": Exists(IrritationFlag.objects.filter(patient_id=OuterRef("patient_id"))),
    }


class PlanQuerySet(models.QuerySet):
    def active_on(self, day: dt.date):
        """Plans running on local date `day`."""
        return self.active_between(day, day)

    def active_between(self, first: dt.date, last: dt.date | None):
        """Active plans running on at least one local date from `first` to `last` (None: no end)."""
        still_running = Q(end_date__isnull=True) | Q(end_date__gte=first)
        if last is None:
            return self.filter(still_running, status=Plan.Status.ACTIVE)
        return self.filter(still_running, status=Plan.Status.ACTIVE, start_date__lte=last)

    def with_steps(self, steps: "models.QuerySet | None" = None):
        """Prefetch steps (from `steps`, default all), their products and ramp-up phases: three queries however many.

        Also annotates `has_procedures` and `has_flags` (whether the patient has any procedure,
        any irritation flag), so `steps_due_on` looks for holds and freezes only when there can be some.
        """
        prefetches = Plan.steps_prefetch(steps=steps), PlanStep.phases_prefetch(f"{STEP_LIST}__")
        return self.prefetch_related(*prefetches).annotate(**_patient_has_rows())

    def with_schedule(self):
        """Prefetch steps, products, phases and the patients' procedures and irritation flags: `steps_due_on`
        then runs without queries.

        For batches of plans (reminders); add `select_related("patient")` to fetch the
        patients in the same query as the plans.
        """
        return self.prefetch_related(*Plan.schedule_prefetches())

    def with_check_in_on(self, day: dt.date):
        """Annotate `feeling`: the patient's skin check-in answer for local date `day` (None if none).

        A left join, not a subquery: one answer a day (a unique constraint), so no plan repeats.
        """
        answer = FilteredRelation("patient__skin_check_ins", condition=Q(patient__skin_check_ins__local_date=day))
        return self.annotate(check_in=answer, feeling=F("check_in__feeling"))

    def current_for(self, patient: Patient, day: dt.date, *, steps: "models.QuerySet | None" = None) -> "Plan | None":
        """The plan the patient follows on local date `day`, or None: of the active plans running
        then, the one `Plan.followed` picks (the latest started).

        It comes `with_steps(steps)`, so `steps_due_on` and `timetable` need at most two
        more queries, for the patient's procedures and irritation flags if they have any.
        """
        return Plan.followed(self.filter(patient=patient).active_on(day).with_steps(steps).order_by())

    def upcoming_for(self, patient: Patient, day: dt.date) -> "Plan | None":
        """The next active plan starting after `day`, or None."""
        return (
            self.filter(patient=patient, status=Plan.Status.ACTIVE, start_date__gt=day).order_by("start_date").first()
        )


class Plan(InTwoLanguages, models.Model):
    """A routine assigned to one patient: its own copy of the steps."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="plans")
    template = models.ForeignKey(RoutineTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=120)
    name_es = models.CharField("name in Spanish", max_length=120, blank=True)
    start_date = models.DateField(default=timezone.localdate)
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.TextField("note to the patient", blank=True)
    note_es = models.TextField("note to the patient, in Spanish", blank=True)
    articles = models.ManyToManyField("education.Article", blank=True, related_name="plans")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])  # each copy's history_date already says when

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["start_date", "id"], name="plan_start_date")]  # the list's order

    def __str__(self) -> str:
        return f"{self.name} for {self.patient}"

    def clean(self):
        super().clean()
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})

    @staticmethod
    def schedule_prefetches(prefix: str = "", *, steps: "models.QuerySet | None" = None, products: bool = True) -> list:
        """Prefetch lookups that make `steps_due_on` query-free for a whole batch of plans.

        Steps (from `steps`, default all; with products unless `products` is False, as `STEP_LIST`),
        their ramp-up phases (as `PHASE_LIST`), the patient's procedures (holds, as `PROCEDURE_LIST`) and
        irritation flags (they stop ramp-ups, as `FLAG_LIST`). `prefix` reaches plans through a relation,
        e.g. `Reminder.objects.prefetch_related(*Plan.schedule_prefetches("plan__"))`. Without products,
        give the plans to `Plan.with_held_products` before asking: only holds read products.
        """
        return [
            Plan.steps_prefetch(prefix, steps=steps, products=products),
            PlanStep.phases_prefetch(f"{prefix}{STEP_LIST}__"),
            Procedure.holds_prefetch(f"{prefix}patient__"),
            IrritationFlag.freezes_prefetch(f"{prefix}patient__"),
        ]

    @staticmethod
    def steps_prefetch(
        prefix: str = "", *, steps: "models.QuerySet | None" = None, products: bool = True
    ) -> models.Prefetch:
        """Prefetch plans' steps (from `steps`, default all) into `STEP_LIST`, unordered, with their
        products unless `products` is False.

        `ordered_steps()` reads them, in order.
        """
        steps = PlanStep.objects.all() if steps is None else steps
        steps = steps.select_related("product") if products else steps
        return models.Prefetch(f"{prefix}steps", queryset=steps.order_by(), to_attr=STEP_LIST)

    @staticmethod
    def with_held_products(plans: list["Plan"]) -> list["Plan"]:
        """`plans`, loaded with `schedule_prefetches(products=False)`, given the products of every step a
        procedure may pause (the steps of patients with a procedure), in one query; returns them."""
        held = [step for plan in plans if getattr(plan.patient, PROCEDURE_LIST) for step in getattr(plan, STEP_LIST)]
        models.prefetch_related_objects(held, "product")
        return plans

    def conflict_error(self, items: list[conflicts.Item]) -> str:
        """The admin's message if these steps would break a conflict rule in this plan's window, else ""."""
        if self.start_date is None:
            return ""  # the plan form has its own error
        today = self.patient.local_today() if self.patient_id else timezone.localdate()
        rules = ConflictRule.objects.values_for_check()
        clash = conflicts.plan_clash(items, rules, start=self.start_date, end=self.end_date, today=today)
        return clash.message() if clash else ""

    def is_running_on(self, day: dt.date) -> bool:
        return self.status == self.Status.ACTIVE and self.covers(day)

    def covers(self, day: dt.date) -> bool:
        """Whether `day` is within the plan's dates, whatever its status."""
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)

    @staticmethod
    def followed(plans: Iterable["Plan"]) -> "Plan | None":
        """Of several plans covering one day, the one the patient followed on it (None if there are none).

        An active one, the latest started as the today page picks (`current_for`); else the newest
        assigned: assigning a routine ends the patient's older plans before the new one starts, so an
        older plan still covering that day was replaced before it ever ran on it.
        """
        plans = list(plans)
        active = [plan for plan in plans if plan.status == Plan.Status.ACTIVE]
        if active:
            return max(active, key=lambda plan: (plan.start_date, plan.pk))
        return max(plans, key=lambda plan: plan.pk, default=None)

    def steps_due_on(self, day: dt.date) -> dict:
        """Return {slot: [PlanStep]} due on local date `day`; empty lists unless running.

        The one place pages, reminders, handouts and calendars ask "what is due":
        ramp-up phases and procedure holds are applied here. With the plan loaded
        `with_schedule()` (or `current_for`), it runs without queries. To ask about
        many days, ask `timetable()` once.
        """
        if not self.is_running_on(day):
            return {slot: [] for slot in schedule.SLOTS}
        return self.timetable().due_on(day)

    def steps_scheduled_on(self, day: dt.date) -> dict:
        """Like `steps_due_on` but whatever the plan's status (adherence counts ended plans up to their end)."""
        return self.timetable().due_on(day)

    def timetable(self) -> schedule.Timetable:
        """The plan's steps in order, with their ramp-up phases, procedure holds and the irritation
        flags' freezes (`freezes`), as plain values.

        Reads what `with_schedule()` prefetched; whatever was not prefetched is read
        now (a few queries, however many steps). The answer is a snapshot: ask again
        after changing the plan, its steps or the patient's procedures.
        """
        steps = self.ordered_steps()
        if not all(hasattr(step, PHASE_LIST) for step in steps):
            models.prefetch_related_objects(steps, PlanStep.phases_prefetch())
        phases = {step.pk: step.phase_values() for step in steps}
        freezes = self.freezes() if any(phases.values()) else ()  # only ramp-ups have a clock to stop
        holds = {}
        procedures = self._procedures()
        if procedures:
            models.prefetch_related_objects(steps, "product")  # nothing to fetch when already selected
            for step in steps:
                step_holds = tuple(p.hold for p in procedures if p.type.stops(step.product))
                if step_holds:
                    holds[step.pk] = step_holds
        return schedule.Timetable(
            steps=tuple(steps),
            start=self.start_date,
            end=self.end_date,
            phases={pk: values for pk, values in phases.items() if values},
            holds=holds,
            freezes=freezes,
        )

    def _procedures(self) -> list:
        """The patient's procedures with their types, for holds (see `_patients_rows`)."""
        return self._patients_rows(Procedure, related="type", any_of_them="has_procedures", prefetched=PROCEDURE_LIST)

    def freezes(self) -> tuple[schedule.Freeze, ...]:
        """When the patient's irritation flags stopped (or stop) this plan's ramp-ups (see `IrritationFlag.freeze`).

        Read once and kept on this plan (`progress_on` asks for each step): a snapshot, as prefetched
        steps are; load the plan again to see a flag opened or reviewed since.
        """
        if not hasattr(self, FLAG_LIST):
            # With the patient: the review date is the patient's local date.
            rows = self._patients_rows(IrritationFlag, related="patient", any_of_them="has_flags", prefetched=FLAG_LIST)
            setattr(self, FLAG_LIST, rows)
        return tuple(freeze for freeze in (flag.freeze for flag in getattr(self, FLAG_LIST)) if freeze is not None)

    def _patients_rows(self, model: type[models.Model], *, related: str, any_of_them: str, prefetched: str) -> list:
        """The patient's `model` rows (procedures or irritation flags, with their `related` row) as the plan was loaded.

        Loaded `with_steps()`: none if its `any_of_them` annotation says the patient had none, else one
        query. Loaded with the patients' prefetch (`with_schedule()`): those prefetched into `prefetched`.
        Else read now. (The queryset is built only when read: planning asks for every plan of a batch.)
        """
        if hasattr(self, any_of_them):
            if not getattr(self, any_of_them):
                return []
        elif (listed := getattr(self.patient, prefetched, None)) is not None:
            return listed
        return list(model.objects.select_related(related).filter(patient_id=self.patient_id))

    def holds_by_step(self, day: dt.date) -> dict:
        """{PlanStep: [Hold]} for steps paused on `day` or later, soonest first (for notes to the patient)."""
        return self.timetable().holds_from(day)

    def days(self, first: dt.date, count: int) -> list[dict]:
        """[{"date": d, "due": {slot: [PlanStep]}}] for `count` local dates from `first` (as `steps_due_on`)."""
        timetable = self.timetable()
        nothing = {slot: [] for slot in schedule.SLOTS}
        dates = (first + dt.timedelta(n) for n in range(count))
        return [{"date": d, "due": timetable.due_on(d) if self.is_running_on(d) else nothing} for d in dates]

    def ordered_steps(self) -> list:
        """The plan's steps in the dermatologist's order (then as entered): those prefetched if so, else read now."""
        listed = getattr(self, STEP_LIST, None)
        return sorted(self.steps.all() if listed is None else listed, key=lambda step: (step.order, step.pk))

    def steps_by_slot(self) -> dict:
        """{slot: [PlanStep]} of every step, due or not (prefetch-friendly)."""
        by_slot = {slot: [] for slot in schedule.SLOTS}
        for step in self.ordered_steps():
            by_slot[step.slot].append(step)
        return by_slot

    def bump_version(self) -> None:
        Plan.objects.filter(pk=self.pk).update(version=F("version") + 1)
        self.refresh_from_db(fields=["version"])


class PlanStepQuerySet(models.QuerySet):
    def with_marks(self, day: dt.date):
        """Annotate what the today page shows on each step: `tick_id`, its tick on local date `day`,
        and `acknowledgement_id`, its caution's acknowledgement for the plan's current version (None if not).

        Left joins, not subqueries: each matches at most one row (the unique constraints on
        StepCheck's step and date, CautionAcknowledgement's step and plan version), so no step repeats.
        """
        return self.with_acknowledgements().with_ticks_on(day)

    def with_acknowledgements(self):
        """`with_marks` but the ticks: `acknowledgement_id` alone, the same whatever the day (build it once)."""
        current = Q(acknowledgements__plan_version=F("plan__version"))
        return self.annotate(
            current_acknowledgement=FilteredRelation("acknowledgements", condition=current),
            acknowledgement_id=F("current_acknowledgement__id"),
        )

    def with_ticks_on(self, day: dt.date):
        """`with_marks` but the acknowledgements: `tick_id` alone, the step's tick on local date `day` (None if not)."""
        return self.annotate(
            tick=FilteredRelation("checks", condition=Q(checks__local_date=day)), tick_id=F("tick__id")
        )


class PlanStep(StepFields):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")

    history = HistoricalRecords()

    objects = PlanStepQuerySet.as_manager()

    class Meta(StepFields.Meta):
        pass

    @property
    def parent(self) -> Plan:
        return self.plan

    @staticmethod
    def phases_prefetch(prefix: str = "") -> models.Prefetch:
        """Prefetch steps' ramp-up phases into `PHASE_LIST`, unordered (`phase_values` orders them)."""
        return models.Prefetch(f"{prefix}phases", queryset=PlanPhase.objects.order_by(), to_attr=PHASE_LIST)

    def progress_on(self, day: dt.date) -> str:
        """Where this step's ramp-up stands on `day` ("Week 3 of 4: …", "Staying at every 4 days … until your
        skin settles" while an irritation flag holds it), or ""."""
        phases = self.phase_values()
        if not phases:
            return ""
        return schedule.progress(self, phases, day, start=self.plan.start_date, freezes=self.plan.freezes())

    @property
    def frequency_text(self) -> str:
        """The step's frequency in words, from the phase an open irritation flag holds it at if one does
        ("Every 4 days (evening) until your skin settles, then …"): /plan/, handouts, the calendar feed."""
        phases = self.phase_values()
        if not phases:
            return schedule.describe(self)
        return schedule.describe(self, phases, start=self.plan.start_date, freezes=self.plan.freezes())


class PlanPhase(PhaseFields):
    step = models.ForeignKey(PlanStep, on_delete=models.CASCADE, related_name="phases")

    class Meta(PhaseFields.Meta):
        verbose_name = "ramp-up phase"


class ConflictRuleQuerySet(models.QuerySet):
    def values_for_check(self) -> list[conflicts.Rule]:
        """The active rules as plain values for `conflicts.first_clash`."""
        return [rule.as_value() for rule in self.filter(active=True)]


class ListedByName(models.Model):
    """What the clinic keeps its own list of, by unique name (conflict rules, procedure types)."""

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConflictRule(ListedByName):
    """Two kinds of product the clinic never wants in the same slot on the same day.

    Each side is a product category, ingredient words, or both (either matches).
    Saving a template or plan that breaks an active rule is refused in the admin.
    """

    name = models.CharField(max_length=120, unique=True, help_text="E.g. “Retinoid with glycolic acid”.")
    first_category = models.CharField(max_length=16, choices=Product.Category.choices, blank=True)
    first_ingredients = models.CharField(
        max_length=300,
        blank=True,
        help_text="Comma-separated; a product matches if its key ingredients contain one.",
    )
    second_category = models.CharField(max_length=16, choices=Product.Category.choices, blank=True)
    second_ingredients = models.CharField(max_length=300, blank=True, help_text="Comma-separated, as above.")
    advice = models.CharField(
        max_length=300, blank=True, help_text="Shown with the error, e.g. “Use them on different evenings.”"
    )
    active = models.BooleanField(default=True)

    objects = ConflictRuleQuerySet.as_manager()

    def clean(self):
        super().clean()
        errors = {}
        if not self.first_category and not conflicts.ingredient_terms(self.first_ingredients):
            errors["first_ingredients"] = "Give the first side a category or at least one ingredient."
        if not self.second_category and not conflicts.ingredient_terms(self.second_ingredients):
            errors["second_ingredients"] = "Give the second side a category or at least one ingredient."
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _side(category: str, ingredients: str) -> conflicts.Side:
        return conflicts.Side(categories=(category,) if category else (), terms=conflicts.ingredient_terms(ingredients))

    def side_text(self, category: str, ingredients: str) -> str:
        words = [Product.Category(category).label.lower()] if category else []
        words += list(conflicts.ingredient_terms(ingredients))
        return " or ".join(words)

    def as_value(self) -> conflicts.Rule:
        return conflicts.Rule(
            name=self.name,
            first=self._side(self.first_category, self.first_ingredients),
            second=self._side(self.second_category, self.second_ingredients),
            advice=self.advice,
        )


class ProcedureType(ListedByName):
    """An in-office procedure and the steps it pauses: e.g. a chemical peel stops
    retinoids and exfoliating acids 7 days before and restarts them 3 days after."""

    name = models.CharField(max_length=120, unique=True, help_text="As the patient reads it: “chemical peel”.")
    name_es = models.CharField("name in Spanish", max_length=120, blank=True, help_text="“peeling químico”.")
    stops_categories = models.CharField(
        "pauses products of these categories", max_length=200, blank=True, help_text="Comma-separated category codes."
    )
    stops_ingredients = models.CharField(
        "pauses products containing",
        max_length=300,
        blank=True,
        help_text="Comma-separated, e.g. glycolic acid, salicylic acid. A product matches if its key ingredients do.",
    )
    days_before = models.PositiveSmallIntegerField(
        "stop this many days before", default=7, validators=[MaxValueValidator(90)]
    )
    days_after = models.PositiveSmallIntegerField(
        "restart this many days after",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="1 = the day after. The procedure day itself is always paused.",
    )
    note = models.TextField(blank=True)

    def clean(self):
        super().clean()
        if not self.category_list and not conflicts.ingredient_terms(self.stops_ingredients):
            raise ValidationError("Choose at least one category or ingredient to pause.")

    @property
    def category_list(self) -> list[str]:
        return [c for c in (self.stops_categories or "").split(",") if c]

    def stops(self, product: "Product | None") -> bool:
        """True if steps with `product` are paused around this kind of procedure."""
        if product is None:
            return False
        return conflicts.matches(
            category=product.category,
            key_ingredients=product.key_ingredients,
            categories=self.category_list,
            terms=conflicts.ingredient_terms(self.stops_ingredients),
        )

    def hold_for(self, on: dt.date) -> schedule.Hold:
        """The paused dates around a procedure on local date `on`."""
        return schedule.Hold(
            first=on - dt.timedelta(days=self.days_before),
            last=on + dt.timedelta(days=self.days_after - 1) if self.days_after > 1 else on,
            what=self.name.lower(),
            what_es=self.name_es.lower(),
            on=on,
        )


class Procedure(models.Model):
    """A procedure booked for a patient. Its type's hold pauses matching steps around `date`;
    moving the date moves the hold (nothing is stored per day)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="procedures")
    type = models.ForeignKey(ProcedureType, on_delete=models.PROTECT, related_name="procedures")
    date = models.DateField(help_text="The patient's local date.")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.type} on {self.date:%Y-%m-%d}"

    @property
    def hold(self) -> schedule.Hold:
        return self.type.hold_for(self.date)

    @staticmethod
    def holds_prefetch(prefix: str = "") -> models.Prefetch:
        """Prefetch patients' procedures with their types into `PROCEDURE_LIST` (the holds `Plan.timetable` applies)."""
        queryset = Procedure.objects.select_related("type")
        return models.Prefetch(f"{prefix}procedures", queryset=queryset, to_attr=PROCEDURE_LIST)


class StepCheckQuerySet(models.QuerySet):
    def toggle(self, *, step: "PlanStep", day: dt.date) -> bool:
        """Tick `step` for `day`, or untick it if already ticked. Returns True if now ticked.

        The unique (step, local_date) constraint decides between simultaneous
        taps (two phones, a double-submitted form): the losing insert is
        dropped, so there is never a second tick and never an error page.
        """
        with transaction.atomic():
            # One patient's taps queue here, so each recount of the last check-in sees the others' ticks.
            patient = Patient.objects.select_for_update(of=("self",)).filter(plans=step.plan_id)
            patient_ids = list(patient.values_list("pk", flat=True))
            deleted, _ = self.filter(step=step, local_date=day).delete()
            if not deleted:
                try:
                    with transaction.atomic():
                        self.create(step=step, local_date=day)
                except IntegrityError:
                    pass  # a simultaneous tap ticked it a moment ago
            self.record_last_check_ins(Patient.objects.filter(pk__in=patient_ids))
            return not deleted

    def record_last_check_ins(self, patients: models.QuerySet) -> int:
        """Store each of `patients`' latest tick date in `Patient.last_check_in_on` (None if they never ticked).

        `toggle` calls it with every tick; code that writes ticks in bulk (demo data, benchmarks)
        calls it once afterwards. Staff lists then sort and filter by a plain indexed column.
        """
        ticks = self.model.objects.filter(step__plan__patient=OuterRef("pk")).order_by()
        latest = ticks.values("step__plan__patient").annotate(latest=models.Max("local_date")).values("latest")
        return patients.update(last_check_in_on=models.Subquery(latest))


class StepCheck(models.Model):
    """The patient ticked `step` done on their local date `local_date`."""

    step = models.ForeignKey(PlanStep, on_delete=models.CASCADE, related_name="checks")
    local_date = models.DateField()
    checked_at = models.DateTimeField(default=timezone.now)

    objects = StepCheckQuerySet.as_manager()

    class Meta:
        ordering = ["-local_date"]
        constraints = [models.UniqueConstraint(fields=["step", "local_date"], name="stepcheck_unique_step_date")]
        indexes = [models.Index(fields=["local_date"], name="stepcheck_local_date")]  # the admin list; recent ticks

    def __str__(self) -> str:
        return f"{self.step} done on {self.local_date}"


class CautionAcknowledgementQuerySet(models.QuerySet):
    def for_current_version(self, step: "PlanStep"):
        """Acknowledgements of `step`'s caution for its plan's current version (at most one)."""
        return self.filter(step=step, plan_version=step.plan.version)

    def acknowledge(self, *, step: "PlanStep", now: dt.datetime) -> "CautionAcknowledgement":
        """Record that the patient read `step`'s caution, once per plan version (a repeat press changes nothing)."""
        ack, _ = self.get_or_create(
            step=step,
            plan_version=step.plan.version,
            defaults={"patient_id": step.plan.patient_id, "caution": step.caution, "acknowledged_at": now},
        )
        return ack


class CautionAcknowledgement(models.Model):
    """The patient confirmed they understood a step's caution, for one version of the plan.

    This is the documented patient understanding education standards ask
    for: the caution text as shown is kept, with the time. A new plan version
    (any step edit) asks again.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="caution_acknowledgements")
    step = models.ForeignKey(PlanStep, on_delete=models.CASCADE, related_name="acknowledgements")
    plan_version = models.PositiveIntegerField()
    caution = models.CharField(max_length=300)
    acknowledged_at = models.DateTimeField(default=timezone.now)

    objects = CautionAcknowledgementQuerySet.as_manager()

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [models.UniqueConstraint(fields=["step", "plan_version"], name="cautionack_unique_step_version")]
        indexes = [models.Index(fields=["acknowledged_at"], name="cautionack_acknowledged_at")]  # the admin list

    def __str__(self) -> str:
        return f"{self.step.title}: caution acknowledged (plan v{self.plan_version})"


class SkinCheckIn(models.Model):
    """How the patient said their skin felt on a local date (one answer a day; a new tap replaces it)."""

    class Feeling(models.TextChoices):
        FINE = "fine", _("Fine")
        DRY = "dry", _("Dry")
        STINGING = "stinging", _("Stinging")
        PEELING = "peeling", _("Peeling")
        RED_AND_SORE = "red_sore", _("Red and sore")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="skin_check_ins")
    local_date = models.DateField()
    feeling = models.CharField(max_length=16, choices=Feeling.choices)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-local_date"]
        verbose_name = "skin check-in"
        constraints = [
            models.UniqueConstraint(fields=["patient", "local_date"], name="skincheckin_unique_patient_date")
        ]
        indexes = [models.Index(fields=["local_date"], name="skincheckin_local_date")]  # the admin list

    def __str__(self) -> str:
        return f"{self.patient}: {self.get_feeling_display().lower()} on {self.local_date}"


class IrritationFlagQuerySet(models.QuerySet):
    def open(self):
        return self.filter(reviewed_at__isnull=True)


class IrritationFlag(models.Model):
    """The patient's check-ins crossed the irritation threshold: one flag per episode.

    A flag stays open until a dermatologist marks it reviewed; while it is
    open no new flag (or email) is raised, and the next episode counts only
    check-ins after this flag's date.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="irritation_flags")
    raised_on = models.DateField(help_text="The patient's local date.")
    raised_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200)
    notified_at = models.DateTimeField("dermatologist emailed at", null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = IrritationFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(reviewed_at__isnull=True), name="irritationflag_one_open_per_patient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient}: {self.reason} ({self.raised_on})"

    @property
    def reviewed_on(self) -> dt.date | None:
        """The patient's local date the flag was marked reviewed (None while open)."""
        if self.reviewed_at is None:
            return None
        return timezone.localtime(self.reviewed_at, self.patient.tz).date()

    @property
    def freeze(self) -> schedule.Freeze | None:
        """The days this flag stops the patient's ramp-ups: from the day it was raised until the day before
        it was reviewed (open: until further notice). None if it was reviewed the day it was raised.

        Ramping steps stay at the phase they were in on `raised_on`; from the review day on they
        carry on from there, the later phases moved by the days held. Nothing is stored per day.
        """
        reviewed_on = self.reviewed_on
        if reviewed_on is None:
            return schedule.Freeze(self.raised_on)
        if reviewed_on <= self.raised_on:
            return None
        return schedule.Freeze(self.raised_on, reviewed_on - dt.timedelta(days=1))

    @staticmethod
    def freezes_prefetch(prefix: str = "") -> models.Prefetch:
        """Prefetch patients' irritation flags into `FLAG_LIST` (the freezes `Plan.timetable` applies).

        `prefix` reaches patients, e.g. "plan__patient__" from reminders.
        """
        return models.Prefetch(
            f"{prefix}irritation_flags", queryset=IrritationFlag.objects.order_by(), to_attr=FLAG_LIST
        )
