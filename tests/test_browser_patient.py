"""The patient journey in headless Chromium on a phone-sized screen."""

import pytest

from routines.models import CautionAcknowledgement, Plan, SkinCheckIn
from tests.factories import PASSWORD, PatientFactory, PlanFactory


def _no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _alices_plan(**fields) -> Plan:
    """A plan from today for alice, a new patient; she logs in with `_log_in_as_alice`."""
    patient = PatientFactory(username="alice", chart_number="C-1001")
    return PlanFactory(patient=patient, start_date=patient.local_today(), **fields)


def _log_in_as_alice(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.browser
def test_it_lets_a_patient_tick_todays_step_on_a_phone(transactional_db, live_server, page):
    plan = _alices_plan(steps=3, note="Be gentle.")
    step = plan.steps.order_by("order").first()

    _log_in_as_alice(page, live_server)

    card = page.locator(f"#step-{step.pk}")
    assert "Step number 0" in card.inner_text()
    assert "0 of 3" in page.inner_text("#progress")
    _no_horizontal_scroll(page)

    card.get_by_role("button").click()
    page.wait_for_load_state()
    page.reload()
    card = page.locator(f"#step-{step.pk}")
    assert "is-done" in card.get_attribute("class")
    assert card.get_by_role("button").get_attribute("aria-pressed") == "true"
    assert "1 of 3" in page.inner_text("#progress")
    _no_horizontal_scroll(page)

    page.goto(f"{live_server.url}/plan/")
    assert "Be gentle." in page.inner_text("main")
    _no_horizontal_scroll(page)
    page.goto(f"{live_server.url}/plan/print/")
    assert Plan.objects.get().steps.count() == 3
    _no_horizontal_scroll(page)


@pytest.mark.browser
def test_it_lets_a_patient_acknowledge_a_caution_then_tick_and_check_in_on_a_phone(transactional_db, live_server, page):
    plan = _alices_plan(steps=2)
    step = plan.steps.order_by("order").first()
    step.caution = "Keep away from the eyes and eyelids."
    step.save()

    _log_in_as_alice(page, live_server)

    card = page.locator(f"#step-{step.pk}")
    assert "Keep away from the eyes and eyelids." in card.inner_text()
    assert card.get_by_role("button", name="Mark done").count() == 0  # no tick before the caution is confirmed
    _no_horizontal_scroll(page)
    card.get_by_role("button", name="I understand").click()
    page.wait_for_load_state()

    card = page.locator(f"#step-{step.pk}")
    assert card.get_by_role("button", name="I understand").count() == 0
    card.get_by_role("button", name="Mark done").click()
    page.wait_for_load_state()
    page.reload()
    card = page.locator(f"#step-{step.pk}")
    assert "is-done" in card.get_attribute("class")
    assert "1 of 2" in page.inner_text("#progress")

    skin = page.locator("#skin")
    assert "How does your skin feel today?" in skin.inner_text()
    skin.get_by_role("button", name="Dry").click()
    page.wait_for_load_state()
    skin = page.locator("#skin")
    assert "You said: dry" in skin.inner_text()
    assert skin.get_by_role("button", name="Dry").get_attribute("aria-pressed") == "true"
    assert "Thank you" in page.inner_text("main")
    _no_horizontal_scroll(page)
    assert CautionAcknowledgement.objects.get().step == step
    assert SkinCheckIn.objects.get().feeling == "dry"
