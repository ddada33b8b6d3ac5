import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_script_prefix

from portal.models import AccessLog
from routines import schedule
from routines.models import (
    CautionAcknowledgement,
    Plan,
    PlanStep,
    Procedure,
    ProcedureType,
    SkinCheckIn,
    StepCheck,
)
from routines.services import assign_routine
from tests.factories import TODAY, PatientFactory, PlanFactory, RoutineTemplateFactory

pytestmark = pytest.mark.usefixtures("frozen")


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_it_shows_todays_steps_by_slot_with_caution_and_wait(alice_client, alice, derm):
    plan = assign_routine(patient=alice, template=RoutineTemplateFactory(), start_date=TODAY, assigned_by=derm)
    response = alice_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    # Day 0 of the plan: glycolic (offset 0) is due, retinol (offset 1) is not.
    assert "Wednesday, 10 March · Milia care" in html
    assert "Glycolic Serum" in html and "Keep away from the eyes" in html
    assert "wait 10 minutes" in html
    assert html.index("Morning") < html.index("Exfoliating Cleanser") < html.index("Evening")
    assert html.index("Evening") < html.index("Glycolic Serum")
    assert "0 of 3" in html
    assert "The next 7 days" in html and "Retinol Serum" in html  # tomorrow in the week glance
    glance = html[html.index("The next 7 days") :]
    assert glance.count('<div class="fw-semibold">') == 7
    assert glance.index("Thu 11 Mar") < glance.index("Wed 17 Mar")  # tomorrow to a week today
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.VIEW, user=alice.user).count() == 1
    assert plan.steps.count() == 4


def test_it_counts_ticks_done_today(alice_client, alice):
    plan = PlanFactory(patient=alice, steps=5)
    for step in plan.steps.all()[:3]:
        StepCheck.objects.create(step=step, local_date=TODAY)
    StepCheck.objects.create(step=plan.steps.first(), local_date=TODAY - dt.timedelta(1))
    assert "3 of 5" in alice_client.get("/").content.decode()


def test_it_shows_only_this_patients_ticks_acknowledgements_check_in_and_pauses_of_today(
    alice_client, alice, bob, derm
):
    """Another patient's rows, other days and earlier plan versions never show on the patient's today page."""
    template = RoutineTemplateFactory()
    mine = assign_routine(patient=alice, template=template, start_date=TODAY, assigned_by=derm)
    theirs = assign_routine(patient=bob, template=template, start_date=TODAY, assigned_by=derm)
    StepCheck.objects.bulk_create(StepCheck(step=step, local_date=TODAY) for step in theirs.steps.all())
    StepCheck.objects.bulk_create(StepCheck(step=s, local_date=TODAY - dt.timedelta(1)) for s in mine.steps.all())
    for step in theirs.steps.exclude(caution=""):
        CautionAcknowledgement.objects.create(patient=bob, step=step, plan_version=1, caution=step.caution)
    for step in mine.steps.exclude(caution=""):  # an earlier version of alice's plan
        CautionAcknowledgement.objects.create(patient=alice, step=step, plan_version=0, caution=step.caution)
    SkinCheckIn.objects.create(patient=bob, local_date=TODAY, feeling=SkinCheckIn.Feeling.RED_AND_SORE)
    SkinCheckIn.objects.create(patient=alice, local_date=TODAY - dt.timedelta(1), feeling=SkinCheckIn.Feeling.DRY)
    peel = ProcedureType.objects.create(name="Chemical peel", stops_categories="retinoid", days_before=1, days_after=1)
    Procedure.objects.create(patient=bob, type=peel, date=TODAY + dt.timedelta(3))

    html = alice_client.get("/").content.decode()
    assert "0 of 3" in html
    assert html.count("I understand") == 1  # the glycolic serum's caution, still to acknowledge
    assert "You said" not in html and "One tap tells your dermatologist" in html
    assert "Paused today" not in html and "Coming up: a pause" not in html
    assert 'aria-pressed="true"' not in html.split('id="skin"')[0]  # no step shows ticked

    alice_client.force_login(bob.user)
    bob_html = alice_client.get("/").content.decode()
    assert "3 of 3" in bob_html and "I understand" not in bob_html
    assert "You said: <strong>red and sore</strong>" in bob_html and "Coming up: a pause" in bob_html


def test_it_follows_the_latest_started_of_the_running_plans(alice_client, alice):
    def plan(name, start, **fields):
        made = PlanFactory(patient=alice, start_date=start, **fields)
        Plan.objects.filter(pk=made.pk).update(name=name)
        return made

    plan("Older routine", TODAY - dt.timedelta(30))
    newer = plan("Newer routine", TODAY - dt.timedelta(2))
    plan("Oldest routine", TODAY - dt.timedelta(40))  # created after the newer one, started before it
    plan("Ended yesterday", TODAY - dt.timedelta(1), end_date=TODAY - dt.timedelta(1))
    html = alice_client.get("/").content.decode()
    assert "Newer routine" in html and "Older routine" not in html and "Ended yesterday" not in html
    assert Plan.objects.current_for(alice, TODAY) == newer
    twin = plan("Same start, created last", TODAY - dt.timedelta(2))
    assert Plan.objects.current_for(alice, TODAY) == twin


def test_it_explains_when_there_is_no_plan(alice_client, alice, bob):
    PlanFactory(patient=bob)
    PlanFactory(patient=alice, status=Plan.Status.ENDED)
    response = alice_client.get("/")
    assert response.status_code == 200
    assert "don't have a skincare routine" in response.content.decode()
    assert "(555) 010-2030" in response.content.decode()
    assert "Product" not in response.content.decode()  # nothing of bob's


def test_it_mentions_a_plan_that_starts_later_and_logs_the_view(alice_client, alice):
    plan = PlanFactory(patient=alice, start_date=TODAY + dt.timedelta(3))
    assert "starts on" in alice_client.get("/").content.decode()
    log = AccessLog.objects.get(patient=alice)
    assert (log.user, log.action, log.what) == (alice.user, AccessLog.VIEW, f"Today: upcoming {plan.name} v1")


def test_it_sends_staff_to_the_admin(derm_client):
    assert derm_client.get("/").url == "/admin/"


def test_it_requires_login(client):
    assert client.get("/").url.startswith("/accounts/login/")


def test_it_shows_the_whole_plan_with_frequencies_note_and_articles(alice_client, alice):
    plan = PlanFactory(patient=alice, steps=2, note="Never squeeze milia.")
    PlanStep.objects.create(
        plan=plan,
        slot=schedule.EVENING,
        instructions="Exfoliate",
        frequency=schedule.WEEKDAYS,
        weekdays="024",
    )
    PlanStep.objects.create(
        plan=plan, slot=schedule.EVENING, instructions="Glycolic", frequency=schedule.EVERY_N_DAYS, interval_days=2
    )
    response = alice_client.get("/plan/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Mon, Wed, Fri" in html and "Every other evening" in html and "Never squeeze milia." in html
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.VIEW, what__startswith="Plan:").exists()


def test_it_lists_steps_in_the_dermatologists_order_not_the_order_entered(alice_client, alice):
    """Steps are loaded without an ORDER BY; every page still lists them by `order`, then as entered."""
    plan = Plan.objects.create(patient=alice, name="Reordered", start_date=TODAY)
    for order, name in ((3, "Last"), (1, "First"), (2, "Second"), (2, "Third")):
        PlanStep.objects.create(plan=plan, slot=schedule.MORNING, order=order, instructions=f"{name} step")
    expected = ["First step", "Second step", "Third step", "Last step"]

    def positions(html):
        return [html.index(title) for title in expected]

    today = alice_client.get("/").content.decode()
    assert positions(today) == sorted(positions(today))
    assert "First step, Second step, Third step, Last step" in today  # the 7-day glance
    for url in ("/plan/", "/plan/print/"):
        html = alice_client.get(url).content.decode()
        assert positions(html) == sorted(positions(html)), url
    for loaded in (Plan.objects.current_for(alice, TODAY), Plan.objects.with_schedule().get(pk=plan.pk)):
        assert [step.title for step in loaded.steps_due_on(TODAY)[schedule.MORNING]] == expected


def test_its_links_follow_the_prefix_the_portal_is_served_under(alice_client, alice):
    """The header's and the today page's links and forms follow the script prefix, however often it changes."""
    plan = PlanFactory(patient=alice, steps=1)
    step = plan.steps.get()
    links = ('href="{p}plan/"', 'href="{p}learn/"', 'href="{p}reminders/"', 'action="{p}accounts/logout/"')
    forms = ('action="{p}skin/"', f'action="{{p}}plan/steps/{step.pk}/check/"')
    for prefix in ("/", "/clinic/", "/"):
        with override_script_prefix(prefix):
            html = alice_client.get("/").content.decode()
        for expected in links + forms:
            assert expected.format(p=prefix) in html, (prefix, expected)


def test_it_uses_as_many_queries_for_30_steps_as_for_3(db, client, django_assert_max_num_queries):
    small = PatientFactory(username="small", chart_number="C-2001")
    large = PatientFactory(username="large", chart_number="C-2002")
    for patient, steps in ((small, 3), (large, 30)):
        plan = PlanFactory(patient=patient, steps=steps)
        StepCheck.objects.bulk_create(StepCheck(step=s, local_date=TODAY) for s in plan.steps.all()[:2])
    counts = {}
    for patient in (small, large):
        client.force_login(patient.user)
        counts[patient.user.username] = (_queries(client, "/"), _queries(client, "/plan/"))
    assert counts["small"] == counts["large"]
    # Session and user; the plan (with today's skin check-in on /), its steps (with ticks and acknowledgements
    # on /) and their phases; the plan's articles on /plan/; the access log row. A procedure would add one.
    for url, most in (("/", 6), ("/plan/", 7)):
        with django_assert_max_num_queries(most):
            assert client.get(url).status_code == 200
