"""Conflict rules: two products the clinic never wants in the same slot on the same day."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from routines import conflicts, schedule
from routines.models import ConflictRule, Plan, Product, RoutineTemplate, TemplatePhase
from tests.admin_forms import phase_post, plan_post, template_post
from tests.factories import TODAY, RoutineTemplateFactory

RETINOID_AHA = conflicts.Rule(
    name="Retinoid with an AHA exfoliant",
    first=conflicts.Side(categories=("retinoid",)),
    second=conflicts.Side(terms=("glycolic acid",)),
)


pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def rule(db):
    return ConflictRule.objects.create(
        name="Retinoid with an AHA exfoliant",
        first_category=Product.Category.RETINOID,
        second_ingredients="glycolic acid, lactic acid",
        advice="Use them on different evenings.",
    )


def item(label, frequency=schedule.DAILY, *, slot=schedule.EVENING, category="", ingredients="", **fields):
    return conflicts.Item(
        label=label, slot=slot, frequency=frequency, category=category, ingredients=ingredients, **fields
    )


# --- The pure function ---------------------------------------------------------------

CATEGORIES = ["retinoid", "serum", "cleanser"]
TERMS = ["glycolic acid", "benzoyl peroxide", "zinc"]


@st.composite
def items(draw):
    interval = draw(st.integers(1, 5))
    phases = ()
    if draw(st.booleans()):
        phases = (
            schedule.Phase(
                schedule.EVERY_N_DAYS,
                interval_days=3,
                offset_days=draw(st.integers(0, 2)),
                days=draw(st.integers(1, 20)),
            ),
            schedule.Phase(draw(st.sampled_from([schedule.DAILY, schedule.WEEKDAYS])), weekdays="14"),
        )
    return conflicts.Item(
        label=draw(st.text(min_size=1, max_size=5)),
        slot=draw(st.sampled_from(schedule.SLOTS)),
        frequency=draw(st.sampled_from([schedule.DAILY, schedule.EVERY_N_DAYS, schedule.WEEKDAYS, schedule.AS_NEEDED])),
        interval_days=interval,
        offset_days=draw(st.integers(0, interval - 1)),
        weekdays="".join(sorted(draw(st.sets(st.sampled_from("0123456"), min_size=1)))),
        category=draw(st.sampled_from(["", *CATEGORIES])),
        ingredients=", ".join(draw(st.lists(st.sampled_from(TERMS), max_size=2))),
        phases=phases,
    )


sides = st.builds(
    conflicts.Side,
    categories=st.lists(st.sampled_from(CATEGORIES), max_size=1).map(tuple),
    terms=st.lists(st.sampled_from(TERMS), min_size=1, max_size=2).map(tuple),
)
rules = st.lists(st.builds(conflicts.Rule, name=st.just("rule"), first=sides, second=sides), min_size=1, max_size=2)


def brute_force(all_items, all_rules, *, start, end, days):
    """Every pair of steps on every date, the slow and obvious way."""
    for n in range(days):
        day = start + dt.timedelta(n)
        due = [schedule.is_due(i, day, start=start, end=end, phases=i.phases) for i in all_items]
        for a in range(len(all_items)):
            for b in range(a + 1, len(all_items)):
                first, second = all_items[a], all_items[b]
                if due[a] and due[b] and conflicts.slots_meet(first.slot, second.slot):
                    if any(r.forbids(first, second) for r in all_rules):
                        return a, b, day
    return None


@given(
    all_items=st.lists(items(), min_size=2, max_size=5),
    all_rules=rules,
    start=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)),
    length=st.one_of(st.none(), st.integers(0, 120)),
)
def test_it_finds_the_first_clash_a_brute_force_walk_finds(all_items, all_rules, start, length):
    end = None if length is None else start + dt.timedelta(length)
    clash = conflicts.first_clash(all_items, all_rules, start=start, end=end, days=90)
    expected = brute_force(all_items, all_rules, start=start, end=end, days=90)
    if expected is None:
        assert clash is None
    else:
        a, b, day = expected
        assert clash is not None and clash.day == day
        assert (clash.first, clash.second) == (all_items[a], all_items[b])


def test_it_passes_alternating_glycolic_and_retinol_and_fails_both_daily():
    start = dt.date(2027, 3, 10)
    glycolic = item("Glycolic Serum", schedule.EVERY_N_DAYS, interval_days=2, ingredients="glycolic acid")
    retinol = item("Retinol Serum", schedule.EVERY_N_DAYS, interval_days=2, offset_days=1, category="retinoid")
    assert conflicts.first_clash([glycolic, retinol], [RETINOID_AHA], start=start, end=None) is None
    clash = conflicts.first_clash(
        [item("Glycolic Serum", ingredients="Glycolic Acid 10%"), item("Retinol Serum", category="retinoid")],
        [RETINOID_AHA],
        start=start,
        end=None,
    )
    assert clash.day == start and clash.slot == schedule.EVENING
    assert "“Glycolic Serum” and “Retinol Serum” would both be due on the evening of Wednesday 10 March 2027" in (
        clash.message()
    )


def test_it_lets_morning_and_evening_differ_but_not_any_time():
    cleanser = item("AHA cleanser", slot=schedule.MORNING, ingredients="glycolic acid")
    retinol = item("Retinol", category="retinoid")
    start = dt.date(2027, 3, 10)
    assert conflicts.first_clash([cleanser, retinol], [RETINOID_AHA], start=start, end=None) is None
    anytime = item("Retinol", slot=schedule.ANY_TIME, category="retinoid")
    assert conflicts.first_clash([cleanser, anytime], [RETINOID_AHA], start=start, end=None).slot == schedule.MORNING


def test_it_catches_a_clash_that_only_the_last_ramp_phase_brings():
    start = dt.date(2027, 3, 10)
    glycolic = item("Glycolic", schedule.EVERY_N_DAYS, interval_days=2, ingredients="glycolic acid")
    ramp = (
        schedule.Phase(schedule.EVERY_N_DAYS, interval_days=2, offset_days=1, days=120),
        schedule.Phase(schedule.DAILY),
    )
    retinol = item("Retinol", category="retinoid", phases=ramp)
    clash = conflicts.plan_clash([glycolic, retinol], [RETINOID_AHA], start=start, end=None, today=start)
    assert clash.day == start + dt.timedelta(120)


def test_it_tries_every_weekday_a_template_could_start_on():
    # Mon+Thu retinol against every-third-day glycolic clashes only for some start weekdays.
    glycolic = item("Glycolic", schedule.EVERY_N_DAYS, interval_days=3, ingredients="glycolic acid")
    retinol = item("Retinol", schedule.WEEKDAYS, weekdays="03", category="retinoid")
    clash = conflicts.template_clash([glycolic, retinol], [RETINOID_AHA], today=dt.date(2027, 3, 10))
    assert clash is not None
    assert "of a plan starting on a" in clash.message(template=True)


# --- The admin -------------------------------------------------------------------


def _milia_plan_post(plan, **step_changes):
    steps = [(s, step_changes.get(s.title, {})) for s in plan.steps.order_by("pk")]
    return plan_post(plan, steps)


def test_it_accepts_the_demo_milia_plan_and_refuses_both_daily(client, derm):
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(derm)
    plan = Plan.objects.get(patient__user__username="demo-patient")
    url = f"/admin/routines/plan/{plan.pk}/change/"
    response = client.post(url, _milia_plan_post(plan, **{"Bioclear Serum": {"note": ""}}))
    assert response.status_code == 302, response.content.decode()[:2000]

    daily = {"frequency": schedule.DAILY, "offset_days": 0, "interval_days": 1}
    data = _milia_plan_post(plan, **{"Bioclear Serum": daily, "Youth Renewal Retinol Serum": daily})
    response = client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    today = plan.patient.local_today()
    # The retinol ramp (every 4 days, second evening of the phase) makes tomorrow the first shared evening.
    clash_day = today + dt.timedelta(1)
    assert "“Bioclear Serum” and “Youth Renewal Retinol Serum” would both be due on the evening of" in html
    assert f"{clash_day:%A} {clash_day.day} {clash_day:%B %Y}" in html
    assert "Retinoid with an AHA exfoliant" in html
    assert plan.steps.get(product__name="Bioclear Serum").frequency == schedule.EVERY_N_DAYS
    assert Plan.objects.get(pk=plan.pk).version == plan.version


def test_it_refuses_a_template_that_would_clash(derm_client, rule):
    template = RoutineTemplateFactory()
    steps = list(template.steps.order_by("pk"))
    data = template_post(template, steps)
    Product.objects.filter(name="Glycolic Serum").update(key_ingredients="glycolic acid")
    url = f"/admin/routines/routinetemplate/{template.pk}/change/"
    assert derm_client.post(url, data).status_code == 302
    glycolic = next(i for i, s in enumerate(steps) if s.title == "Glycolic Serum")
    data[f"steps-{glycolic}-offset_days"] = 1  # now on the retinol evenings
    response = derm_client.post(url, data)
    assert response.status_code == 200
    assert "would both be due on the evening of day 2 of a plan starting on a Wednesday" in response.content.decode()
    assert template.steps.get(pk=steps[glycolic].pk).offset_days == 0


def test_it_refuses_ramp_up_phases_that_would_clash(derm_client, alice, rule, derm):
    from routines.services import assign_routine

    template = RoutineTemplateFactory()
    Product.objects.filter(name="Glycolic Serum").update(key_ingredients="glycolic acid")
    plan = assign_routine(patient=alice, template=template, start_date=TODAY, assigned_by=derm)
    retinol = plan.steps.get(product__name="Retinol Serum")
    ramp = (
        schedule.Phase(schedule.EVERY_N_DAYS, interval_days=2, offset_days=1, days=14),
        schedule.Phase(schedule.DAILY),
    )
    response = derm_client.post(f"/admin/routines/planstep/{retinol.pk}/change/", phase_post(retinol, ramp))
    assert response.status_code == 200
    day = TODAY + dt.timedelta(14)
    assert f"would both be due on the evening of {day:%A} {day.day} {day:%B %Y}" in response.content.decode()
    assert not retinol.phases.exists()


def test_it_refuses_to_assign_a_template_broken_by_a_newer_rule(derm_client, alice):
    template = RoutineTemplateFactory()
    template.steps.filter(product__name="Glycolic Serum").update(frequency=schedule.DAILY)
    Product.objects.filter(name="Glycolic Serum").update(key_ingredients="glycolic acid")
    ConflictRule.objects.create(name="Retinoid with AHA", first_category="retinoid", second_ingredients="glycolic")
    url = f"/admin/portal/patient/{alice.pk}/assign-routine/"
    response = derm_client.post(url, {"template": template.pk, "start_date": "2027-03-10"})
    assert response.status_code == 200
    assert "Correct the template first." in response.content.decode()
    assert not Plan.objects.exists()


def test_it_needs_something_on_each_side_of_a_rule(derm_client):
    response = derm_client.post(
        "/admin/routines/conflictrule/add/", {"name": "Empty", "first_category": "retinoid", "active": "on"}
    )
    assert response.status_code == 200
    assert "Give the second side a category or at least one ingredient." in response.content.decode()
    assert not ConflictRule.objects.exists()


def test_it_lets_front_desk_read_but_not_write_rules(desk_client, rule):
    assert desk_client.get(f"/admin/routines/conflictrule/{rule.pk}/change/").status_code == 200
    assert desk_client.post("/admin/routines/conflictrule/add/", {"name": "x"}).status_code == 403


def test_it_seeds_the_two_demo_rules(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    names = set(ConflictRule.objects.values_list("name", flat=True))
    assert names == {"Retinoid with an AHA exfoliant", "Retinoid with benzoyl peroxide"}
    template = RoutineTemplate.objects.get(name="Milia care")
    steps = template.steps.select_related("product").prefetch_related("phases")
    assert template.conflict_error([conflicts.item_of(s, s.phase_values()) for s in steps]) == ""
    assert TemplatePhase.objects.exists()
