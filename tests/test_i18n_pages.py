"""A Spanish-speaking patient meets Spanish interface text on the pages and emails translated so far.

`english_left` (tests/untranslated.py) fails a page on any interface text left
in English. The Spanish patient's whole journey (today, plan, reminders, emails,
calendar, PDF) is in tests/test_i18n_patient_journey.py.
"""

import datetime as dt

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import RequestFactory
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.invitations import create_invitation, send_invitation
from tests.factories import ArticleFactory
from tests.untranslated import english_left, english_lines

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9"}


@pytest.fixture
def articulo(derm):
    return ArticleFactory(
        slug="milia-es",
        title="Milia: pequeños quistes blancos",
        summary="Qué son y cómo cuidarlos en casa.",
        body="Use protector solar todas las mañanas. Evite el contorno de los ojos.",
        language="es",
        medical_reviewer=derm,
        reviewed_on=dt.date(2026, 3, 3),
    )


def spanish_page(response) -> str:
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="es">' in page
    return page


def test_the_helper_finds_english_and_skips_text_marked_english():
    assert english_left('<html lang="es"><p>Log in</p><p>Iniciar sesión</p></html>') == ["Log in"]
    assert english_left('<p>Press the button to continue</p><input placeholder="Your email">') == [
        "Press the button to continue",
        "Your email",
    ]
    assert english_left('<html lang="en"><p lang="en">English</p><p>Hola</p><script>var the = 1;</script></html>') == []
    assert english_lines("Hola:\nSee today's steps\nhttps://example.org/the/plan\n") == ["See today's steps"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/done/"]
)
def test_it_shows_pages_before_login_in_spanish(client, path):
    assert english_left(spanish_page(client.get(path, **SPANISH))) == []


def test_it_shows_login_errors_in_spanish(client, rosa):
    page = spanish_page(client.post("/accounts/login/", {"username": "rosa", "password": "wrong"}, **SPANISH))
    assert 'class="alert alert-block alert-danger"' in page or "alert-danger" in page
    assert english_left(page) == []


def test_it_shows_the_password_reset_link_pages_in_spanish(client, rosa):
    uid = urlsafe_base64_encode(force_bytes(rosa.user.pk))
    token = default_token_generator.make_token(rosa.user)
    page = spanish_page(client.get(f"/accounts/reset/{uid}/{token}/", follow=True, **SPANISH))
    assert "Elija una contraseña nueva" in page and english_left(page) == []
    expired = spanish_page(client.get(f"/accounts/reset/{uid}/not-a-token/", **SPANISH))
    assert "Este enlace ya no es válido" in expired and english_left(expired) == []


def test_it_shows_the_activation_pages_in_spanish(client, rosa):
    rosa.user.set_unusable_password()
    rosa.user.save()
    invitation = create_invitation(patient=rosa, sent_by=None)
    page = spanish_page(client.get(f"/accounts/activate/{invitation.token}/", **SPANISH))
    assert "Le damos la bienvenida, Rosa" in page and "Crear mi contraseña" in page
    assert english_left(page) == []
    weak = spanish_page(
        client.post(f"/accounts/activate/{invitation.token}/", {"new_password1": "1", "new_password2": "1"}, **SPANISH)
    )
    assert english_left(weak) == []


def test_it_shows_the_library_in_spanish(rosa_client, articulo):
    page = spanish_page(rosa_client.get("/learn/"))
    assert "Aprenda sobre su piel" in page and "Milia: pequeños quistes blancos" in page
    assert english_left(page) == []
    nothing = spanish_page(rosa_client.get("/learn/?q=zzzz"))
    assert "Ningún artículo coincide con “zzzz”" in nothing and english_left(nothing) == []
    too_long = spanish_page(rosa_client.get("/learn/?q=" + "x" * 101))
    assert "Se muestran todos los artículos." in too_long and english_left(too_long) == []


def test_it_shows_an_article_in_spanish_with_a_spanish_date(rosa_client, articulo):
    page = spanish_page(rosa_client.get("/learn/milia-es/"))
    assert "Revisado médicamente por Dana el 3 de marzo de 2026" in page
    assert ">Imprimir</a>" in page and ">Descargar PDF</a>" in page
    assert english_left(page) == []


def test_it_marks_the_interface_around_an_english_article_as_spanish(rosa_client, derm):
    ArticleFactory(
        slug="sunscreen",
        title="Sunscreen every morning",
        body="Use it daily.",
        medical_reviewer=derm,
        reviewed_on=dt.date(2026, 3, 3),
    )
    page = spanish_page(rosa_client.get("/learn/sunscreen/"))
    assert '<article class="article" lang="en">' in page
    # The article itself is English (marked so); the buttons around it are not.
    assert '<div class="d-flex flex-wrap gap-2 mb-3 no-print" lang="es">' in page
    # Only the article's own title is left in English: the tab title (<title> can carry no lang of its own part).
    assert [text for text in english_left(page) if "Sunscreen every morning" not in text] == []


def test_it_shows_the_reminder_settings_page_headings_in_spanish(rosa_client):
    page = spanish_page(rosa_client.get("/reminders/"))
    for text in ("Recordatorios", "Configuración", "Agregar a su calendario", "Enlace del calendario"):
        assert text in page


def test_it_shows_the_reminder_settings_form_in_spanish(rosa_client):
    page = spanish_page(rosa_client.get("/reminders/"))
    assert "Hora del recordatorio de la mañana" in page and "Guardar la configuración de recordatorios" in page
    assert english_left(page) == []


def test_it_shows_a_bad_reminder_setting_in_spanish(rosa_client):
    response = rosa_client.post("/reminders/", {"morning_reminder_time": "soon", "time_zone": "Nowhere/City"})
    assert response.status_code == 400
    page = response.content.decode()
    assert '<html lang="es">' in page and "invalid-feedback" in page
    assert english_left(page) == []


def test_it_sends_the_invitation_in_the_patients_language(rosa, desk, mailoutbox, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    rosa.user.set_unusable_password()
    rosa.user.save()
    request = RequestFactory().post("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    request.user = desk
    send_invitation(patient=rosa, request=request)
    (email,) = mailoutbox
    assert email.subject == "Su invitación al portal para pacientes de Riverside Dermatology"
    assert email.body.startswith("Hola, Rosa:\n\nRiverside Dermatology le creó una cuenta")
    assert "durante 7 días" in email.body and english_lines(email.body) == []
    html = email.alternatives[0][0]
    assert '<html lang="es">' in html and english_left(html) == []


def test_it_sends_the_password_reset_email_in_the_patients_language(client, rosa, mailoutbox):
    # The browser asking is English; the account's record says Spanish.
    client.post("/accounts/password_reset/", {"email": "rosa@example.org"}, HTTP_ACCEPT_LANGUAGE="en")
    (email,) = mailoutbox
    assert email.subject.startswith("Restablezca su contraseña del portal")
    assert email.body.startswith("Hola:\n\nAlguien pidió restablecer la contraseña")
    assert english_lines(email.subject + "\n" + email.body) == []


def test_it_keeps_the_english_patients_emails_in_english(client, alice, mailoutbox):
    client.post("/accounts/password_reset/", {"email": "alice@example.org"}, HTTP_ACCEPT_LANGUAGE="es")
    (email,) = mailoutbox
    assert email.body.startswith("Hello,\n\nSomeone asked to reset the password for your patient portal account.")


def test_it_leaves_the_english_patients_pages_as_they_were(alice_client, derm):
    ArticleFactory(slug="sunscreen", body="Use it daily.", medical_reviewer=derm, reviewed_on=dt.date(2026, 3, 3))
    library = alice_client.get("/learn/").content.decode()
    assert '<html lang="en">' in library
    assert '<h1 class="h3">Learn about your skin</h1>' in library
    assert '<a class="nav-link" href="/learn/">Learn</a>' in library
    assert 'Riverside Dermatology · Questions about your care? Call <a href="tel:(555) 010-2030">' in library
    article = alice_client.get("/learn/sunscreen/").content.decode()
    assert '<p class="small text-body-secondary" lang="en">Medically reviewed by Dana on 3 March 2026</p>' in article
    assert "<title>Sunscreen · Riverside Dermatology</title>" in article
