"""Issue 18: invitations cannot take over an account, prints change nothing, article links stay inside,
and the front desk cannot filter patients by skin problems."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from education.models import Article
from education.rendering import render_markdown
from portal.invitations import create_invitation
from portal.models import AccessLog, Invitation
from routines.models import SkinCheckIn
from tests.factories import PASSWORD, ArticleFactory, PlanFactory, SkinCheckInFactory

NEW_PASSWORD = "Taken-over-2026!"


def _never_activated(patient):
    patient.user.set_unusable_password()
    patient.user.save()
    return patient


def test_it_issues_no_letter_or_link_for_a_patient_who_has_a_password(desk_client, alice, mailoutbox):
    assert desk_client.get(f"/handouts/patients/{alice.pk}/invite.pdf").status_code == 404
    refused = desk_client.post(f"/admin/portal/patient/{alice.pk}/issue-invitation/", follow=True)
    assert "already uses the portal" in refused.content.decode()
    desk_client.post("/admin/portal/patient/", {"action": "send_portal_invitation", "_selected_action": [alice.pk]})
    assert not Invitation.objects.exists() and not mailoutbox

    # Even an invitation issued before she set her password no longer works.
    _never_activated(alice)
    old = create_invitation(patient=alice, sent_by=None)
    alice.user.set_password(PASSWORD)
    alice.user.save()
    stranger = Client()
    response = stranger.post(
        f"/accounts/activate/{old.token}/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 410
    assert "already has a password" in response.content.decode()
    user = get_user_model().objects.get(pk=alice.user.pk)
    assert user.check_password(PASSWORD) and not user.check_password(NEW_PASSWORD)
    assert "_auth_user_id" not in stranger.session


def test_it_sends_an_active_patient_a_password_reset_to_their_own_address(desk_client, alice, mailoutbox, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    response = desk_client.post(
        "/admin/portal/patient/", {"action": "send_password_reset_email", "_selected_action": [alice.pk]}
    )
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [[alice.user.email]]
    assert "https://portal.example.org/accounts/reset/" in mailoutbox[0].body
    assert AccessLog.objects.filter(patient=alice, what="Sent password reset email").exists()


def test_it_issues_an_invitation_only_by_post_and_prints_it_without_changing_it(desk_client, alice):
    _never_activated(alice)
    issue_url = f"/admin/portal/patient/{alice.pk}/issue-invitation/"
    letter_url = f"/handouts/patients/{alice.pk}/invite.pdf"
    assert desk_client.get(issue_url).status_code == 405
    assert desk_client.get(letter_url).status_code == 404  # nothing issued yet
    assert not Invitation.objects.exists()

    assert desk_client.post(issue_url).status_code == 302
    invitation = Invitation.objects.get()
    for method in ("get", "head", "options", "put", "delete"):
        getattr(desk_client, method)(letter_url)
    # Printed as often as wanted: the same link, still usable, and exactly one print row (the GET).
    assert list(Invitation.objects.usable()) == [invitation]
    assert AccessLog.objects.filter(action=AccessLog.PRINT).count() == 1
    assert desk_client.put(letter_url).status_code == 405


@pytest.mark.parametrize("destination", ["image", "script", "style"])
def test_it_refuses_a_print_url_fetched_as_a_pages_sub_resource(client, alice, destination):
    PlanFactory(patient=alice)
    client.force_login(alice.user)
    response = client.get("/plan/handout.pdf", headers={"Sec-Fetch-Dest": destination})
    assert response.status_code == 400
    assert client.get("/plan/print/", headers={"Sec-Fetch-Dest": destination}).status_code == 400
    assert not AccessLog.objects.filter(action=AccessLog.PRINT).exists()
    assert client.get("/plan/handout.pdf", headers={"Sec-Fetch-Dest": "document"}).status_code == 200


@pytest.mark.parametrize(
    "src",
    [
        "/static/../handouts/patients/4/invite.pdf",
        "/static/%2e%2e/handouts/patients/4/invite.pdf",
        "/static/%2E%2E/handouts/patients/4/invite.pdf",
        "/static/%252e%252e/handouts/patients/4/invite.pdf",
        "/static/%25252e%25252e/handouts/patients/4/invite.pdf",
        "/static/..%2fhandouts/patients/4/invite.pdf",
        "/static/..%5chandouts/patients/4/invite.pdf",
        "/static/%5c..%5chandouts/patients/4/invite.pdf",
        "/static\\..\\handouts/patients/4/invite.pdf",
        "//evil.example/static/x.png",
        "/%2fevil.example/static/x.png",
        "/handouts/patients/4/invite.pdf",
        "/admin/logout/",
    ],
)
def test_it_drops_article_images_and_links_that_leave_the_articles_own_files(src):
    html = render_markdown(f"![chart]({src}) and [a link]({src})")
    assert "invite.pdf" not in html and "evil.example" not in html and "/admin/" not in html


def test_it_keeps_the_articles_own_images_and_library_links():
    html = render_markdown("![diagram](/static/img/diagram.png) [more](/learn/acne/) [site](https://aad.org/)")
    assert 'src="/static/img/diagram.png"' in html
    assert 'href="/learn/acne/"' in html and 'href="https://aad.org/"' in html


def test_it_does_not_log_a_print_when_a_draft_preview_embeds_a_handout(client, derm, alice):
    PlanFactory(patient=alice)
    article = ArticleFactory(slug="trap", status=Article.Status.DRAFT)
    Article.objects.filter(pk=article.pk).update(body=f"![x](/static/%2e%2e/handouts/patients/{alice.pk}/plan.pdf)")
    client.force_login(derm)
    page = client.get(f"/learn/{article.slug}/")
    assert page.status_code in (200, 404)
    assert "plan.pdf" not in page.content.decode()


SKIN_FILTERS = ["skin_flagged=1", "skin_flagged=0", "irritation_flags__isnull=False", "skin_check_ins__isnull=False"]


@pytest.mark.parametrize("query", [*SKIN_FILTERS, "skin=flagged", "skin_check_ins__feeling=red_sore"])
def test_it_refuses_the_front_desk_a_patient_list_filtered_by_skin(desk_client, alice, bob, query):
    SkinCheckInFactory(patient=alice, local_date=alice.local_today(), feeling=SkinCheckIn.Feeling.RED_AND_SORE)
    unfiltered = desk_client.get("/admin/portal/patient/")
    response = desk_client.get(f"/admin/portal/patient/?{query}")
    if response.status_code == 200:  # ignored, never applied
        assert response.context["cl"].result_count == unfiltered.context["cl"].result_count == 2
    else:
        assert response.status_code == 400


def test_it_still_lets_dermatologists_filter_by_skin(derm_client, alice, bob):
    SkinCheckInFactory(patient=alice, local_date=alice.local_today(), feeling=SkinCheckIn.Feeling.RED_AND_SORE)
    response = derm_client.get("/admin/portal/patient/?skin_check_ins__isnull=False")
    assert response.status_code == 200
    assert [p.pk for p in response.context["cl"].result_list] == [alice.pk]


def test_it_names_the_clinic_in_every_password_reset_subject(client, desk_client, alice, mailoutbox, settings):
    client.post("/accounts/password_reset/", {"email": alice.user.email})
    desk_client.post("/admin/portal/patient/", {"action": "send_password_reset_email", "_selected_action": [alice.pk]})
    assert [m.subject for m in mailoutbox] == [f"Reset your {settings.CLINIC_NAME} portal password"] * 2
