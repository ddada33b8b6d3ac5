import io

import pytest
from pypdf import PdfReader

from portal.models import AccessLog, Invitation
from routines.services import assign_routine
from tests.admin_forms import phase_post
from tests.factories import TODAY, PlanFactory, RoutineTemplateFactory

pytestmark = pytest.mark.usefixtures("frozen")


def _pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_it_prints_the_patients_own_plan_as_pdf(alice_client, alice, derm):
    plan = assign_routine(patient=alice, template=RoutineTemplateFactory(), start_date=TODAY, assigned_by=derm)
    text = _pdf_text(alice_client.get("/plan/handout.pdf"))
    for words in ("Milia care", "Glycolic Serum", "Sunscreen SPF 30", "Keep away from the eyes", "Two-week tick sheet"):
        assert words in text
    assert f"version {plan.version}" in text and "10 March 2027" in text and "(555) 010-2030" in text
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.PRINT, user=alice.user).count() == 1


def test_it_shows_the_new_version_on_the_handouts_after_a_step_edit_in_the_admin(client, alice, derm, desk):
    plan = PlanFactory(patient=alice)
    step = plan.ordered_steps()[0]
    client.force_login(derm)
    data = {**phase_post(step, []), "instructions": "Two pumps, not three"}
    assert client.post(f"/admin/routines/planstep/{step.pk}/change/", data).status_code == 302
    client.force_login(desk)
    text = _pdf_text(client.get(f"/handouts/patients/{alice.pk}/plan.pdf"))
    assert "version 2" in text and "Two pumps, not three" in text
    client.force_login(alice.user)
    assert "version 2" in _pdf_text(client.get("/plan/handout.pdf"))


def test_it_lets_front_desk_print_the_invitation_letter_and_logs_it(desk_client, alice):
    alice.user.set_unusable_password()
    alice.user.save()
    assert desk_client.post(f"/admin/portal/patient/{alice.pk}/issue-invitation/").status_code == 302
    text = _pdf_text(desk_client.get(f"/handouts/patients/{alice.pk}/invite.pdf"))
    invitation = Invitation.objects.get(patient=alice)
    assert "Alice" in text and f"/accounts/activate/{invitation.token}/" in text.replace("\n", "")
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.PRINT, what="Portal invitation letter").exists()


def test_it_lets_front_desk_and_dermatologists_print_a_patients_plan(client, desk, derm, alice):
    PlanFactory(patient=alice)
    for user in (desk, derm):
        client.force_login(user)
        text = _pdf_text(client.get(f"/handouts/patients/{alice.pk}/plan.pdf"))
        assert "Step number 0" in text and "Alice Tester" in text
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.PRINT).count() == 2


def test_it_refuses_the_staff_plan_handout_to_patients_and_strangers(client, alice_client, alice, bob):
    PlanFactory(patient=bob)
    assert alice_client.get(f"/handouts/patients/{bob.pk}/plan.pdf").status_code == 403
    alice_client.logout()
    assert client.get(f"/handouts/patients/{bob.pk}/plan.pdf").url.startswith("/accounts/login/")
    assert not AccessLog.objects.filter(action=AccessLog.PRINT).exists()


def test_it_404s_when_there_is_no_plan_to_print(alice_client, desk_client, alice):
    assert alice_client.get("/plan/handout.pdf").status_code == 404
    assert desk_client.get(f"/handouts/patients/{alice.pk}/plan.pdf").status_code == 404


def test_it_has_a_printable_html_page_with_static_css_and_no_inline_styles(alice_client, alice):
    PlanFactory(patient=alice)
    response = alice_client.get("/plan/print/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Step number 2" in html and "Two-week tick sheet" in html and "version 1" in html
    assert "/static/css/routines.css" in html and "/static/css/print.css" in html
    assert "style=" not in html and "<style" not in html and "<script>" not in html
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.PRINT).exists()


def test_it_has_no_inline_styles_or_scripts_on_patient_pages(alice_client, alice):
    PlanFactory(patient=alice, note="Hello")
    for url in ("/", "/plan/"):
        html = alice_client.get(url).content.decode()
        assert "style=" not in html and "<style" not in html and "<script>" not in html
