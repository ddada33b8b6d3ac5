"""Demo routines from the clinic's milia article (shared/seeds/milia-article.txt). Idempotent."""

import datetime as dt

from django.contrib.auth import get_user_model

from education.models import Article
from portal.models import Patient

from . import schedule
from .models import (
    ConflictRule,
    Plan,
    PlanPhase,
    PlanStep,
    Procedure,
    ProcedureType,
    Product,
    RoutineTemplate,
    SkinCheckIn,
    StepCheck,
    TemplatePhase,
    TemplateStep,
)
from .services import assign_routine

C = Product.Category
# name, brand, category, key ingredients, SPF, notes
PRODUCTS = [
    (
        "Daily Microfoliant",
        "Dermalogica",
        C.EXFOLIATOR,
        "rice enzymes, salicylic acid",
        None,
        "Gentle daily exfoliant.",
    ),
    ("Facial Polish", "Glo Skin Beauty", C.EXFOLIATOR, "jojoba beads, papaya enzyme", None, "Gentle daily exfoliant."),
    ("AHA/BHA Exfoliating Cleanser", "Murad", C.CLEANSER, "glycolic acid, salicylic acid", None, ""),
    ("Bioclear Serum", "Jan Marini", C.SERUM, "glycolic acid, salicylic acid", None, "Glycolic acid serum."),
    ("Youth Renewal Retinol Serum", "Murad", C.RETINOID, "retinol (low strength)", None, ""),
    ("Phyto 52", "Yon-Ka", C.MOISTURIZER, "rosemary", None, "Helps release milia."),
    ("Gentle Moisturizer", "", C.MOISTURIZER, "ceramides, glycerin", None, "Any fragrance-free moisturizer."),
    ("Broad-Spectrum Sunscreen SPF 30+", "", C.SUNSCREEN, "zinc oxide", 30, "At least SPF 30, every morning."),
]

# The article explaining each product (education/demo.py): a step using it links it (`Product.default_article`).
PRODUCT_ARTICLES = {
    "Daily Microfoliant": "exfoliating-safely",
    "Facial Polish": "exfoliating-safely",
    "AHA/BHA Exfoliating Cleanser": "exfoliating-safely",
    "Bioclear Serum": "glycolic-acid-and-retinol",
    "Youth Renewal Retinol Serum": "glycolic-acid-and-retinol",
    "Phyto 52": "evening-moisturizer",
    "Gentle Moisturizer": "evening-moisturizer",
    "Broad-Spectrum Sunscreen SPF 30+": "daily-sunscreen",
}

# A step may name its own article instead: the glycolic acid step links the milia article, whose
# teach-back questions ask how long glycolic acid dries (so the demo's today page leads to them).
STEP_ARTICLES = {"Bioclear Serum": "milia-vs-acne"}

RETINOL = "Youth Renewal Retinol Serum"
EYES = "Keep away from the eyes and eyelids; the skin there is thinner and irritates easily."
EYES_ES = "No lo use cerca de los ojos ni en los párpados: ahí la piel es más fina y se irrita con facilidad."
# slot, order, product name, instructions, frequency, every N days, offset, wait minutes, caution
MILIA_STEPS = [
    (
        schedule.MORNING,
        1,
        "AHA/BHA Exfoliating Cleanser",
        "Wet your fingertips and massage the cleanser over your face in small circles for a minute, then rinse.",
        schedule.DAILY,
        1,
        0,
        0,
        "Be gentle: stop if your skin feels dry or raw.",
    ),
    (
        schedule.MORNING,
        2,
        "Broad-Spectrum Sunscreen SPF 30+",
        "Apply a generous layer as the last step, also on cloudy days.",
        schedule.DAILY,
        1,
        0,
        0,
        "",
    ),
    (
        schedule.EVENING,
        1,
        "Bioclear Serum",
        "Apply a thin layer of the glycolic acid serum to clean, dry skin.",
        schedule.EVERY_N_DAYS,
        2,
        0,
        10,
        EYES,
    ),
    (
        schedule.EVENING,
        2,
        RETINOL,
        "Apply a pea-sized amount of the low-strength retinol to clean, dry skin.",
        schedule.EVERY_N_DAYS,
        2,
        1,
        0,
        EYES,
    ),
    (
        schedule.EVENING,
        3,
        "Gentle Moisturizer",
        "Smooth a moisturizer over your face before bed.",
        schedule.DAILY,
        1,
        0,
        0,
        "",
    ),
]


# The Milia care steps in Spanish, by product: instructions, caution.
MILIA_STEPS_ES = {
    "AHA/BHA Exfoliating Cleanser": (
        "Moje la punta de los dedos y masajee el limpiador sobre la cara con movimientos pequeños en círculo "
        "durante un minuto. Luego enjuague.",
        "Hágalo con suavidad: pare si siente la piel seca o irritada.",
    ),
    "Broad-Spectrum Sunscreen SPF 30+": (
        "Aplique una capa generosa como último paso, también en los días nublados.",
        "",
    ),
    "Bioclear Serum": ("Aplique una capa fina del sérum de ácido glicólico sobre la piel limpia y seca.", EYES_ES),
    RETINOL: ("Aplique una cantidad del tamaño de un chícharo del retinol suave sobre la piel limpia y seca.", EYES_ES),
    "Gentle Moisturizer": ("Extienda la crema hidratante por la cara antes de dormir.", ""),
}


# The retinol step's ramp-up: order, frequency, every N days, offset, lasts (days).
# Offsets are odd counted from each phase's first day (phases last an even number
# of days), so retinol stays on the evenings the every-other-evening glycolic
# serum (offset 0) leaves free: the clinic's "retinoid with glycolic acid" rule
# is never broken, and it ends on "the other evenings" as the milia article says.
RETINOL_RAMP = [
    (1, schedule.EVERY_N_DAYS, 6, 1, 14),  # about once a week for 2 weeks
    (2, schedule.EVERY_N_DAYS, 4, 1, 14),  # about twice a week for 2 weeks
    (3, schedule.EVERY_N_DAYS, 2, 1, None),  # then every other evening
]


# name, first category, first ingredients, second category, second ingredients, advice
CONFLICT_RULES = [
    (
        "Retinoid with an AHA exfoliant",
        C.RETINOID,
        "retinol, retinal, tretinoin, adapalene",
        "",
        "glycolic acid, lactic acid, mandelic acid",
        "Together they irritate: use them on different evenings.",
    ),
    (
        "Retinoid with benzoyl peroxide",
        C.RETINOID,
        "retinol, retinal, tretinoin, adapalene",
        "",
        "benzoyl peroxide",
        "Benzoyl peroxide can break down retinoids and together they irritate: use them at different times.",
    ),
]


ACIDS = "glycolic acid, salicylic acid, lactic acid, mandelic acid"
# name, Spanish name, paused categories, paused ingredients, days before, restart days after, note
PROCEDURE_TYPES = [
    ("Chemical peel", "Peeling químico", [C.RETINOID], ACIDS, 7, 3, "Superficial glycolic or salicylic peel."),
    ("Milia extraction", "Extracción de milia", [C.RETINOID], "glycolic acid", 2, 2, "In-office extraction."),
    ("Laser resurfacing", "Láser de rejuvenecimiento", [C.RETINOID, C.EXFOLIATOR], ACIDS, 14, 7, "Fractional laser."),
]


def _ramp_up(step, phase_model) -> None:
    """Give the retinol step its ramp-up phases unless it has some (idempotent)."""
    if step is None or step.phases.exists():
        return
    phase_model.objects.bulk_create(
        phase_model(step=step, order=order, frequency=frequency, interval_days=every, offset_days=offset, days=days)
        for order, frequency, every, offset, days in RETINOL_RAMP
    )


def _explain_and_translate(steps) -> None:
    """Milia care steps (of the template or a plan) seeded before steps had articles and Spanish wording
    get them: their own article (STEP_ARTICLES) or their product's, and MILIA_STEPS_ES where they have none yet."""
    step_articles = dict(Article.objects.filter(slug__in=STEP_ARTICLES.values()).values_list("slug", "pk"))
    for step in steps.select_related("product").filter(product__name__in=MILIA_STEPS_ES):
        instructions_es, caution_es = MILIA_STEPS_ES[step.product.name]
        own_article = step_articles.get(STEP_ARTICLES.get(step.product.name))
        changed = {
            "article_id": own_article or step.article_id or step.product.default_article_id,
            "instructions_es": step.instructions_es or instructions_es,
            "caution_es": step.caution_es or caution_es,
            "area_es": step.area_es or ("cara" if step.area == "face" else ""),
        }
        if any(getattr(step, field) != value for field, value in changed.items()):
            type(step).objects.filter(pk=step.pk).update(**changed)


def seed(*, stdout) -> None:
    articles = dict(Article.objects.filter(slug__in=PRODUCT_ARTICLES.values()).values_list("slug", "pk"))
    products = {}
    for name, brand, category, ingredients, spf, notes in PRODUCTS:
        products[name], _ = Product.objects.get_or_create(
            name=name,
            brand=brand,
            defaults={"category": category, "key_ingredients": ingredients, "spf": spf, "notes": notes},
        )
        if products[name].default_article_id is None:
            products[name].default_article_id = articles.get(PRODUCT_ARTICLES.get(name))
            Product.objects.filter(pk=products[name].pk).update(default_article=products[name].default_article_id)

    for name, first_category, first_ingredients, second_category, second_ingredients, advice in CONFLICT_RULES:
        ConflictRule.objects.get_or_create(
            name=name,
            defaults={
                "first_category": first_category,
                "first_ingredients": first_ingredients,
                "second_category": second_category,
                "second_ingredients": second_ingredients,
                "advice": advice,
            },
        )

    for name, name_es, categories, ingredients, before, after, note in PROCEDURE_TYPES:
        kind, _ = ProcedureType.objects.get_or_create(
            name=name,
            defaults={
                "stops_categories": ",".join(categories),
                "stops_ingredients": ingredients,
                "days_before": before,
                "days_after": after,
                "note": note,
            },
        )
        if not kind.name_es:  # a database seeded before procedures had Spanish names
            ProcedureType.objects.filter(pk=kind.pk).update(name_es=name_es)

    derm = get_user_model().objects.filter(username="demo-derm").first()
    template, created = RoutineTemplate.objects.get_or_create(
        name="Milia care",
        defaults={
            "name_es": "Cuidado de los milia",
            "description": "Gentle daily exfoliation, glycolic acid and retinol on alternate evenings, SPF 30+ daily.",
            "created_by": derm,
        },
    )
    if not template.name_es:
        RoutineTemplate.objects.filter(pk=template.pk).update(name_es="Cuidado de los milia")
        template.name_es = "Cuidado de los milia"
    if created:
        for slot, order, product, text, frequency, every, offset, wait, caution in MILIA_STEPS:
            instructions_es, caution_es = MILIA_STEPS_ES[product]
            TemplateStep.objects.create(
                template=template,
                slot=slot,
                order=order,
                product=products[product],
                instructions=text,
                instructions_es=instructions_es,
                frequency=frequency,
                interval_days=every,
                offset_days=offset,
                wait_minutes=wait,
                caution=caution,
                caution_es=caution_es,
                area="face",
                area_es="cara",
            )
        # The English originals: a Spanish reader gets each one's published translation instead.
        milia = Article.objects.published().filter(conditions__name__iexact="milia", translation_of__isnull=True)
        template.articles.set(milia.distinct())
    _explain_and_translate(template.steps.all())  # a database seeded before
    _ramp_up(template.steps.filter(product__name=RETINOL).first(), TemplatePhase)

    patient = Patient.objects.filter(user__username="demo-patient").first()
    if patient is not None and not Plan.objects.filter(patient=patient).exists():
        today = patient.local_today()
        plan = assign_routine(
            patient=patient,
            template=template,
            start_date=today - dt.timedelta(days=14),
            assigned_by=derm,
            note="Be patient: milia take a few weeks to clear. Never squeeze them; we can extract stubborn ones.",
        )
        _tick_some_past_days(plan, today)
    if patient is not None:
        # A database seeded before ramp-ups existed gets the ramp on demo-patient's plan too.
        plan = Plan.objects.filter(patient=patient, template=template).order_by("-start_date").first()
        _ramp_up(plan and plan.steps.filter(product__name=RETINOL).first(), PlanPhase)
    _demo_patient2(template, derm)
    _demo_paciente(template, derm)
    _explain_and_translate(PlanStep.objects.filter(plan__template=template))
    stdout.write(
        "Demo routines: products, conflict and procedure rules, Milia care (ramping retinol), three plans, a peel"
    )


def _demo_patient2(template: RoutineTemplate, derm) -> None:
    """demo-patient2 follows Milia care too and has a chemical peel in 4 days, so today shows the pause."""
    patient = Patient.objects.filter(user__username="demo-patient2").first()
    if patient is None:
        return
    today = patient.local_today()
    if not Plan.objects.filter(patient=patient).exists():
        assign_routine(
            patient=patient,
            template=template,
            start_date=today - dt.timedelta(days=10),
            assigned_by=derm,
            note="Your retinol and acid steps pause around your chemical peel; the portal shows when to restart.",
        )
    # A few skin check-ins to show in the admin (not enough to flag).
    for days_ago, feeling in ((3, SkinCheckIn.Feeling.FINE), (1, SkinCheckIn.Feeling.DRY)):
        SkinCheckIn.objects.get_or_create(
            patient=patient, local_date=today - dt.timedelta(days=days_ago), defaults={"feeling": feeling}
        )
    if not Procedure.objects.filter(patient=patient).exists():
        Procedure.objects.create(
            patient=patient,
            type=ProcedureType.objects.get(name="Chemical peel"),
            date=today + dt.timedelta(days=4),
            note="Superficial glycolic peel, forehead and cheeks.",
            created_by=derm,
        )


def _demo_paciente(template: RoutineTemplate, derm) -> None:
    """demo-paciente (Spanish) has followed Milia care for 10 days, with no end date."""
    patient = Patient.objects.filter(user__username="demo-paciente").first()
    if patient is None or Plan.objects.filter(patient=patient).exists():
        return
    plan = assign_routine(
        patient=patient,
        template=template,
        start_date=patient.local_today() - dt.timedelta(days=10),
        assigned_by=derm,
        note="Be patient: milia take a few weeks to clear. Never squeeze them; we can extract stubborn ones.",
    )
    plan.note_es = "Tenga paciencia: los milia tardan unas semanas en irse. No los apriete; podemos sacarlos aquí."
    plan.save(update_fields=["note_es"])


def _tick_some_past_days(plan: Plan, today: dt.date) -> None:
    """Ticks on most past days: a believable, imperfect history for the adherence columns."""
    checks = []
    for n in range(1, 15):
        day = today - dt.timedelta(days=n)
        if n % 5 == 0:
            continue  # a missed day now and then
        for slot, steps in plan.steps_due_on(day).items():
            for step in steps:
                if slot == schedule.EVENING and n % 3 == 0:
                    continue  # a skipped evening
                checks.append(StepCheck(step=step, local_date=day))
    StepCheck.objects.bulk_create(checks)
    StepCheck.objects.record_last_check_ins(Patient.objects.filter(pk=plan.patient_id))
