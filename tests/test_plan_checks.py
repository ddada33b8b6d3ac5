import datetime as dt

import pytest
from django.test import Client

from portal.models import AccessLog
from routines.models import Plan, StepCheck
from tests.factories import TODAY, PlanFactory

pytestmark = pytest.mark.usefixtures("frozen")


def _check(client, step, next_url="/"):
    return client.post(f"/plan/steps/{step.pk}/check/", {"next": next_url})


def test_it_ticks_and_unticks_a_step_for_the_patients_local_date(alice_client, alice):
    step = PlanFactory(patient=alice).steps.first()
    response = _check(alice_client, step)
    assert response.status_code == 302 and response.url == f"/#step-{step.pk}"
    assert list(StepCheck.objects.values_list("step_id", "local_date")) == [(step.pk, TODAY)]
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.CHANGE).exists()
    _check(alice_client, step)
    assert not StepCheck.objects.exists()


def test_it_uses_the_patients_time_zone_not_utc(alice_client, alice, frozen):
    frozen.move_to("2027-03-11T03:00:00Z")  # 22:00 on 10 March in New York
    step = PlanFactory(patient=alice).steps.first()
    _check(alice_client, step)
    assert StepCheck.objects.get().local_date == dt.date(2027, 3, 10)


def test_it_keeps_a_tick_after_reload(alice_client, alice):
    step = PlanFactory(patient=alice).steps.first()
    _check(alice_client, step)
    html = alice_client.get("/").content.decode()
    assert "is-done" in html and 'aria-pressed="true"' in html and "1 of 3" in html


def test_it_returns_to_the_plan_page_but_never_off_site(alice_client, alice):
    step = PlanFactory(patient=alice).steps.first()
    assert _check(alice_client, step, "/plan/").url == f"/plan/#step-{step.pk}"
    assert _check(alice_client, step, "https://evil.example/").url == f"/#step-{step.pk}"


def test_it_404s_for_another_patients_step(alice_client, bob):
    step = PlanFactory(patient=bob).steps.first()
    assert _check(alice_client, step).status_code == 404
    assert not StepCheck.objects.exists()


def test_it_404s_for_a_step_of_a_plan_that_is_not_running(alice_client, alice):
    ended = PlanFactory(patient=alice, status=Plan.Status.ENDED).steps.first()
    finished = PlanFactory(
        patient=alice, start_date=TODAY - dt.timedelta(10), end_date=TODAY - dt.timedelta(1)
    ).steps.first()
    later = PlanFactory(patient=alice, start_date=TODAY + dt.timedelta(1)).steps.first()
    for step in (ended, finished, later):
        assert _check(alice_client, step).status_code == 404
    assert not StepCheck.objects.exists()


def test_it_requires_post_and_csrf(alice):
    step = PlanFactory(patient=alice).steps.first()
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    assert client.get(f"/plan/steps/{step.pk}/check/").status_code == 405
    assert _check(client, step).status_code == 403
    assert not StepCheck.objects.exists()


def test_it_needs_a_login(client, alice):
    step = PlanFactory(patient=alice).steps.first()
    assert _check(client, step).url.startswith("/accounts/login/")


def test_it_keeps_one_tick_per_step_and_date(alice):
    step = PlanFactory(patient=alice).steps.first()
    assert StepCheck.objects.toggle(step=step, day=TODAY) is True
    StepCheck.objects.get_or_create(step=step, local_date=TODAY)
    assert StepCheck.objects.count() == 1
