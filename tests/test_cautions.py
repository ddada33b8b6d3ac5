"""Acknowledged cautions: a step's caution is confirmed once per plan version before it can be ticked."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.models import AccessLog
from routines.models import CautionAcknowledgement, StepCheck
from routines.services import assign_routine
from tests.admin_forms import plan_post
from tests.factories import TODAY, CautionAcknowledgementFactory, PlanFactory, RoutineTemplateFactory

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def plan(alice, derm):
    return assign_routine(patient=alice, template=RoutineTemplateFactory(), start_date=TODAY, assigned_by=derm)


@pytest.fixture
def glycolic(plan):
    """Due today, with the caution "Keep away from the eyes"."""
    return plan.steps.get(product__name="Glycolic Serum")


def _check(client, step):
    return client.post(f"/plan/steps/{step.pk}/check/", {"next": "/"}, follow=True)


def _acknowledge(client, step):
    return client.post(f"/plan/steps/{step.pk}/acknowledge/", {"next": "/"})


def test_it_shows_i_understand_instead_of_the_check_button(alice_client, glycolic):
    html = alice_client.get("/").content.decode()
    card = html.split(f'id="step-{glycolic.pk}"')[1].split("</li>")[0]
    assert "Keep away from the eyes" in card and "I understand" in card
    assert f"/plan/steps/{glycolic.pk}/check/" not in card and "Read the caution first" in card
    other = html.split("Exfoliating Cleanser")[0].rsplit("<li", 1)[1]
    assert "/check/" in other  # steps without a caution tick as before


def test_it_refuses_to_tick_before_the_caution_is_acknowledged(alice_client, glycolic):
    response = _check(alice_client, glycolic)
    assert "press “I understand” before ticking it off" in response.content.decode()
    assert not StepCheck.objects.exists()


def test_it_ticks_once_acknowledged_and_records_who_and_when(alice_client, alice, glycolic, plan):
    response = _acknowledge(alice_client, glycolic)
    assert response.status_code == 302 and response.url == f"/#step-{glycolic.pk}"
    ack = CautionAcknowledgement.objects.get()
    assert (ack.patient, ack.step, ack.plan_version, ack.caution) == (alice, glycolic, 1, "Keep away from the eyes")
    assert ack.acknowledged_at.isoformat().startswith("2027-03-10T17:00")
    assert AccessLog.objects.filter(patient=alice, what__startswith="Acknowledged caution: Glycolic Serum").exists()
    _acknowledge(alice_client, glycolic)  # a second press changes nothing
    assert CautionAcknowledgement.objects.count() == 1

    html = alice_client.get("/").content.decode()
    card = html.split(f'id="step-{glycolic.pk}"')[1].split("</li>")[0]
    assert f"/plan/steps/{glycolic.pk}/check/" in card and "I understand" not in card
    _check(alice_client, glycolic)
    assert StepCheck.objects.filter(step=glycolic, local_date=TODAY).exists()


def test_it_asks_again_when_the_plan_version_changes(client, alice, derm, glycolic, plan):
    client.force_login(alice.user)
    _acknowledge(client, glycolic)
    _check(client, glycolic)
    assert StepCheck.objects.count() == 1

    steps = [(s, {"instructions": "Thin layer, avoid the nose"} if s == glycolic else {}) for s in plan.steps.all()]
    client.force_login(derm)
    assert client.post(f"/admin/routines/plan/{plan.pk}/change/", plan_post(plan, steps)).status_code == 302
    plan.refresh_from_db()
    assert plan.version == 2

    client.force_login(alice.user)
    assert "I understand" in client.get("/").content.decode()
    _check(client, glycolic)  # not even an untick before the new acknowledgement
    assert StepCheck.objects.count() == 1
    _acknowledge(client, glycolic)
    assert list(CautionAcknowledgement.objects.order_by("plan_version").values_list("plan_version", flat=True)) == [
        1,
        2,
    ]
    _check(client, glycolic)
    assert StepCheck.objects.count() == 0


def test_it_404s_acknowledging_another_patients_step(alice_client, bob, derm):
    bobs = assign_routine(patient=bob, template=RoutineTemplateFactory(), start_date=TODAY, assigned_by=derm)
    step = bobs.steps.get(product__name="Glycolic Serum")
    assert _acknowledge(alice_client, step).status_code == 404
    assert not CautionAcknowledgement.objects.exists()


def test_it_needs_post_and_csrf(client, alice, glycolic):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice.user)
    assert strict.post(f"/plan/steps/{glycolic.pk}/acknowledge/").status_code == 403
    client.force_login(alice.user)
    assert client.get(f"/plan/steps/{glycolic.pk}/acknowledge/").status_code == 405
    assert not CautionAcknowledgement.objects.exists()


def test_it_shows_acknowledgements_read_only_in_the_admin(alice, derm, desk, glycolic, plan):
    alice_client, derm_client, desk_client = Client(), Client(), Client()
    for c, user in ((alice_client, alice.user), (derm_client, derm), (desk_client, desk)):
        c.force_login(user)
    page = derm_client.get(f"/admin/routines/plan/{plan.pk}/change/").content.decode()
    assert "Not yet acknowledged for version 1: Glycolic Serum." in page
    _acknowledge(alice_client, glycolic)
    page = derm_client.get(f"/admin/routines/plan/{plan.pk}/change/").content.decode()
    assert "All cautions acknowledged for version 1." in page and "Keep away from the eyes" in page
    listing = desk_client.get("/admin/routines/cautionacknowledgement/")
    assert listing.status_code == 200 and "Glycolic Serum" in listing.content.decode()
    ack = CautionAcknowledgement.objects.get()
    assert (
        derm_client.post(f"/admin/routines/cautionacknowledgement/{ack.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert CautionAcknowledgement.objects.exists()


def test_it_keeps_the_today_page_query_count_flat(client, alice, bob):
    counts = []
    for patient, steps in ((alice, 3), (bob, 20)):
        plan = PlanFactory(patient=patient, steps=steps)
        plan.steps.update(caution="Keep away from the eyes")
        for step in plan.steps.all()[:2]:
            CautionAcknowledgementFactory(step=step)
        client.force_login(patient.user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
