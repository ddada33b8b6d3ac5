import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import AccessLog, Patient
from routines import schedule
from routines.models import Plan, PlanStep, RoutineTemplate, StepCheck
from routines.services import assign_routine
from tests.admin_forms import plan_post
from tests.factories import NOON_UTC, TODAY, PlanFactory, RoutineTemplateFactory, StepCheckFactory

pytestmark = pytest.mark.usefixtures("frozen")

# Kept until tests/test_cautions.py imports tests.admin_forms.plan_post.
_plan_post = plan_post


def test_it_assigns_a_routine_from_the_patient_page(derm_client, alice):
    template = RoutineTemplateFactory()
    page = derm_client.get(f"/admin/portal/patient/{alice.pk}/change/")
    assert b"Assign a routine" in page.content and b"Print plan" in page.content
    url = f"/admin/portal/patient/{alice.pk}/assign-routine/"
    assert derm_client.get(url).status_code == 200
    response = derm_client.post(url, {"template": template.pk, "start_date": "2027-03-10", "note": "Be gentle."})
    plan = Plan.objects.get(patient=alice)
    assert response.status_code == 302 and response.url == f"/admin/routines/plan/{plan.pk}/change/"
    assert plan.version == 1 and plan.note == "Be gentle." and plan.template == template
    assert plan.steps.count() == template.steps.count() == 4
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.CHANGE).exists()


def test_it_refuses_an_end_date_before_the_start(derm_client, alice):
    template = RoutineTemplateFactory()
    url = f"/admin/portal/patient/{alice.pk}/assign-routine/"
    data = {"template": template.pk, "start_date": "2027-03-10", "end_date": "2027-03-01"}
    response = derm_client.post(url, data)
    assert response.status_code == 200
    assert "The end date cannot be before the start date." in response.content.decode()
    assert not Plan.objects.exists()


def test_it_ends_the_previous_plan_when_assigning_a_new_one(derm_client, alice):
    old = PlanFactory(patient=alice, start_date=TODAY - dt.timedelta(30))
    url = f"/admin/portal/patient/{alice.pk}/assign-routine/"
    derm_client.post(url, {"template": RoutineTemplateFactory().pk, "start_date": TODAY.isoformat()})
    old.refresh_from_db()
    assert old.status == Plan.Status.ENDED and old.end_date == TODAY - dt.timedelta(1)


def test_it_keeps_the_current_plan_running_until_a_later_one_starts(derm_client, alice):
    old = PlanFactory(patient=alice, start_date=TODAY - dt.timedelta(30))
    template = RoutineTemplateFactory()
    url = f"/admin/portal/patient/{alice.pk}/assign-routine/"
    derm_client.post(url, {"template": template.pk, "start_date": "2027-03-12"})
    old.refresh_from_db()
    assert old.status == Plan.Status.ACTIVE and old.end_date == dt.date(2027, 3, 11)
    day = alice.local_today()
    assert Plan.objects.current_for(alice, day) == old
    assert Plan.objects.current_for(alice, day + dt.timedelta(1)) == old
    assert Plan.objects.current_for(alice, day + dt.timedelta(2)).name == "Milia care"
    # A plan that had not started yet, and would not before the new one, is ended outright.
    later = PlanFactory(patient=alice, start_date=dt.date(2027, 3, 20))
    derm_client.post(url, {"template": template.pk, "start_date": "2027-03-15"})
    later.refresh_from_db()
    assert later.status == Plan.Status.ENDED


def test_it_keeps_the_template_when_the_plan_is_edited(derm_client, alice):
    template = RoutineTemplateFactory()
    derm_client.post(
        f"/admin/portal/patient/{alice.pk}/assign-routine/", {"template": template.pk, "start_date": "2027-03-10"}
    )
    plan = Plan.objects.get()
    steps = list(plan.steps.all())
    data = plan_post(plan, [(steps[0], {"instructions": "Only on the cheeks"})] + [(s, {}) for s in steps[1:]])
    response = derm_client.post(f"/admin/routines/plan/{plan.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan.refresh_from_db()
    assert plan.version == 2
    assert not template.steps.filter(instructions="Only on the cheeks").exists()
    assert plan.steps.filter(instructions="Only on the cheeks").exists()


def test_it_bumps_the_version_only_when_steps_change(derm_client, alice):
    plan = PlanFactory(patient=alice)
    steps = [(s, {}) for s in plan.steps.all()]
    derm_client.post(f"/admin/routines/plan/{plan.pk}/change/", plan_post(plan, steps, note="New note"))
    plan.refresh_from_db()
    assert plan.version == 1 and plan.note == "New note"
    first = plan.steps.first()
    derm_client.post(
        f"/admin/routines/plan/{plan.pk}/change/",
        plan_post(plan, [(first, {"DELETE": "on"})] + steps[1:]),
    )
    plan.refresh_from_db()
    assert plan.version == 2 and plan.steps.count() == 2


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"frequency": schedule.EVERY_N_DAYS, "interval_days": 0}, "“Every N days” needs N of at least 1."),
        ({"frequency": schedule.EVERY_N_DAYS, "interval_days": 2, "offset_days": 2}, "The offset must be between 0"),
        ({"frequency": schedule.WEEKDAYS, "weekdays": []}, "Choose at least one weekday."),
    ],
)
def test_it_stops_impossible_schedules_with_a_clear_message(derm_client, alice, fields, message):
    plan = PlanFactory(patient=alice, steps=1)
    step = plan.steps.get()
    response = derm_client.post(f"/admin/routines/plan/{plan.pk}/change/", plan_post(plan, [(step, fields)]))
    assert response.status_code == 200
    assert message in response.content.decode()
    plan.refresh_from_db()
    step.refresh_from_db()
    assert plan.version == 1 and step.frequency == schedule.DAILY


def test_it_stops_an_end_date_before_the_start_on_the_plan(derm_client, alice):
    plan = PlanFactory(patient=alice, steps=1)
    data = plan_post(plan, [(plan.steps.get(), {})], end_date="2027-03-01")
    response = derm_client.post(f"/admin/routines/plan/{plan.pk}/change/", data)
    assert "The end date cannot be before the start date." in response.content.decode()


def test_it_saves_chosen_weekdays_from_checkboxes(derm_client, alice):
    plan = PlanFactory(patient=alice, steps=1)
    step = plan.steps.get()
    data = plan_post(plan, [(step, {"frequency": schedule.WEEKDAYS, "weekdays": ["4", "0", "2"]})])
    assert derm_client.post(f"/admin/routines/plan/{plan.pk}/change/", data).status_code == 302
    step.refresh_from_db()
    assert step.weekdays == "024" and step.frequency_text == "Mon, Wed, Fri mornings"


def test_it_refuses_a_second_active_plan_on_the_same_dates(derm_client, alice):
    current = PlanFactory(patient=alice, start_date=TODAY - dt.timedelta(10))
    old = PlanFactory(patient=alice, start_date=TODAY - dt.timedelta(40), status=Plan.Status.ENDED)
    old.end_date = TODAY - dt.timedelta(11)
    old.save()
    url = f"/admin/routines/plan/{old.pk}/change/"
    overlapping = plan_post(old, [], status=Plan.Status.ACTIVE, end_date="")
    response = derm_client.post(url, overlapping)
    assert response.status_code == 200
    assert f"“{current.name}”, from 28 February 2027, with no end date" in response.content.decode()
    old.refresh_from_db()
    assert (old.status, old.version) == (Plan.Status.ENDED, 1)
    before = plan_post(old, [], status=Plan.Status.ACTIVE)  # its own dates, all before the current plan
    assert derm_client.post(url, before).status_code == 302
    old.refresh_from_db()
    assert old.status == Plan.Status.ACTIVE


def test_it_still_saves_step_edits_on_plans_that_overlapped_before_that_rule(derm_client, alice):
    PlanFactory(patient=alice, start_date=TODAY - dt.timedelta(20))
    current = PlanFactory(patient=alice, start_date=TODAY - dt.timedelta(10))
    data = plan_post(current, [(step, {"instructions": "Corrected"}) for step in current.steps.all()[:1]])
    data["initial-start_date"] = data["start_date"]  # as the browser posts it: the date has a callable default
    assert derm_client.post(f"/admin/routines/plan/{current.pk}/change/", data).status_code == 302
    assert current.steps.filter(instructions="Corrected").exists()


def test_it_lets_front_desk_view_but_not_change_or_assign_plans(desk_client, alice):
    plan = PlanFactory(patient=alice)
    assert desk_client.get(f"/admin/routines/plan/{plan.pk}/change/").status_code == 200
    data = plan_post(plan, [(s, {"instructions": "Changed"}) for s in plan.steps.all()])
    assert desk_client.post(f"/admin/routines/plan/{plan.pk}/change/", data).status_code == 403
    assert not PlanStep.objects.filter(instructions="Changed").exists()
    url = f"/admin/portal/patient/{alice.pk}/assign-routine/"
    assert desk_client.get(url).status_code == 403
    assert (
        desk_client.post(url, {"template": RoutineTemplateFactory().pk, "start_date": "2027-03-10"}).status_code == 403
    )
    page = desk_client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    assert "Assign a routine" not in page and "Print plan" in page
    assert "Print invitation" not in page and "Issue an invitation" not in page  # alice already uses the portal


def test_it_lets_front_desk_view_but_not_change_or_add_templates(desk_client):
    template = RoutineTemplateFactory()
    url = f"/admin/routines/routinetemplate/{template.pk}/change/"
    assert desk_client.get(url).status_code == 200
    assert desk_client.post(url, {"name": "Renamed", "description": ""}).status_code == 403
    assert desk_client.post("/admin/routines/routinetemplate/add/", {"name": "New"}).status_code == 403
    assert RoutineTemplate.objects.get().name == "Milia care"


def test_it_logs_staff_viewing_a_plan(derm_client, alice):
    plan = PlanFactory(patient=alice)
    derm_client.get(f"/admin/routines/plan/{plan.pk}/change/")
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.VIEW, what__startswith="Admin plan #").exists()


def test_it_logs_staff_opening_one_step_of_a_plan(derm_client, alice):
    step = PlanFactory(patient=alice).steps.first()
    assert derm_client.get(f"/admin/routines/planstep/{step.pk}/change/").status_code == 200
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.VIEW, what=f"Admin plan step #{step.pk}").exists()


def test_it_shows_adherence_and_last_check_in(derm_client, alice, bob):
    plan = PlanFactory(
        patient=alice, steps=2, start_date=TODAY - dt.timedelta(10)
    )  # one morning and one evening step, daily
    morning, evening = plan.steps.all()
    for n in range(1, 8):  # every morning of the last 7 days, no evenings
        StepCheckFactory(step=morning, local_date=TODAY - dt.timedelta(n))
    PlanFactory(patient=bob, start_date=TODAY - dt.timedelta(10))
    page = derm_client.get("/admin/portal/patient/").content.decode()
    assert "50% (7/14)" in page  # 7 days
    assert "35% (7/20)" in page  # 30 days, but the plan ran only 10 complete days
    assert "March 9, 2027" in page or "2027-03-09" in page
    detail = derm_client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    assert "50% (7/14)" in detail


def test_it_counts_a_day_once_when_a_routine_was_reassigned_the_day_it_started(derm_client, alice, derm):
    start = TODAY - dt.timedelta(3)
    template = RoutineTemplateFactory()
    first = assign_routine(patient=alice, template=template, start_date=start, assigned_by=derm)
    again = assign_routine(patient=alice, template=template, start_date=start, assigned_by=derm)
    first.refresh_from_db()
    assert (first.status, first.end_date) == (Plan.Status.ENDED, start)  # both cover the start day
    due = 0
    for day in (start + dt.timedelta(n) for n in range(3)):
        steps = [step for slot in again.steps_scheduled_on(day).values() for step in slot]
        StepCheck.objects.bulk_create(StepCheck(step=step, local_date=day) for step in steps)
        due += len(steps)
    page = derm_client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    fields = page.split('id="adherence-chart"')[0]  # the chart below says the same of the 30 days
    assert fields.count(f"100% ({due}/{due})") == 2  # 7 and 30 days: the ended plan's start day is not counted again


def test_it_counts_the_plan_followed_when_a_plan_for_later_was_replaced_before_it_began(derm_client, alice, derm):
    template = RoutineTemplateFactory()
    noon = dt.datetime.fromisoformat(NOON_UTC)

    def assign(start):
        return assign_routine(patient=alice, template=template, start_date=start, assigned_by=derm)

    with time_machine.travel(noon - dt.timedelta(days=7), tick=False):  # a plan to start in five days
        later = assign(TODAY - dt.timedelta(2))
    with time_machine.travel(noon - dt.timedelta(days=5), tick=False):  # replaced by one starting at once
        followed = assign(TODAY - dt.timedelta(5))
    later.refresh_from_db()
    assert (later.status, later.end_date) == (Plan.Status.ENDED, later.start_date)  # it still covers its start day
    assert Plan.objects.current_for(alice, later.start_date) == followed
    due = 0
    for day in (TODAY - dt.timedelta(n) for n in range(1, 6)):
        steps = [step for slot in followed.steps_scheduled_on(day).values() for step in slot]
        StepCheck.objects.bulk_create(StepCheck(step=step, local_date=day) for step in steps)
        due += len(steps)
    page = derm_client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    assert page.split('id="adherence-chart"')[0].count(f"100% ({due}/{due})") == 2


def test_it_lists_adherence_in_as_many_queries_for_five_patients_as_for_two(derm_client, alice, bob):
    def queries_for_the_list():
        with CaptureQueriesContext(connection) as ctx:
            assert derm_client.get("/admin/portal/patient/").status_code == 200
        return len(ctx.captured_queries)

    for patient in (alice, bob):
        PlanFactory(patient=patient, start_date=TODAY - dt.timedelta(10))
    two = queries_for_the_list()
    PlanFactory.create_batch(3, start_date=TODAY - dt.timedelta(10))  # three more patients
    assert queries_for_the_list() == two


def test_it_filters_patients_not_checked_in_for_3_days(derm_client, alice, bob):
    stale = PlanFactory(patient=alice, start_date=TODAY - dt.timedelta(10)).steps.first()
    fresh = PlanFactory(patient=bob, start_date=TODAY - dt.timedelta(10)).steps.first()
    StepCheckFactory(step=stale, local_date=TODAY - dt.timedelta(4))
    StepCheckFactory(step=fresh, local_date=TODAY - dt.timedelta(1))
    page = derm_client.get("/admin/portal/patient/?checkins=stale3").content.decode()
    assert "C-1001" in page and "C-1002" not in page


def test_it_counts_the_3_days_in_each_patients_own_time_zone(derm_client, alice, bob):
    # At 12:00 UTC on TODAY it is already TODAY + 1 in Kiritimati (UTC+14), so a tick on
    # TODAY - 2 is three of bob's days ago but only two of the clinic's.
    Patient.objects.filter(pk=bob.pk).update(time_zone="Pacific/Kiritimati")
    for patient in (alice, bob):
        step = PlanFactory(patient=patient, start_date=TODAY - dt.timedelta(10)).steps.first()
        StepCheckFactory(step=step, local_date=TODAY - dt.timedelta(2))
    page = derm_client.get("/admin/portal/patient/?checkins=stale3").content.decode()
    assert "C-1002" in page and "C-1001" not in page


def test_it_keeps_the_invitation_action(derm_client, alice, mailoutbox):
    alice.user.set_unusable_password()
    alice.user.save()
    data = {"action": "send_portal_invitation", "_selected_action": [alice.pk]}
    assert derm_client.post("/admin/portal/patient/", data).status_code == 302
    assert len(mailoutbox) == 1


def test_the_front_desk_sees_no_adherence_or_last_check_in(client, desk, derm, alice):
    """Adherence is clinical: the patient list and page show it to dermatologists only, and its filter too."""
    PlanFactory(patient=alice)
    StepCheckFactory(step=alice.plans.get().steps.first())
    for user, shown in ((derm, True), (desk, False)):
        client.force_login(user)
        listing = client.get("/admin/portal/patient/")
        assert ("adherence_7_days" in listing.context["cl"].list_display) is shown
        assert ("Not checked in for 3+ days" in listing.content.decode()) is shown
        page = client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
        assert ("Last check-in" in page) is shown
        # Nor by typing the lookup into the address bar: refused, not answered.
        crafted = client.get("/admin/portal/patient/?last_check_in_on__isnull=True")
        assert crafted.status_code == (200 if shown else 400)
