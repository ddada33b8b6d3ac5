"""Which language a page is in: the patient's record once signed in, the browser before; else English."""

import pytest
from django.conf import settings

from portal.models import Patient

SPANISH_LOGIN = "Iniciar sesión"
ENGLISH_LOGIN = "Log in"


def html_lang(response) -> str:
    page = response.content.decode()
    return page[page.index("<html lang=") :].split('"')[1]


@pytest.mark.django_db
def test_it_follows_the_browser_before_login(client):
    spanish = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    assert html_lang(spanish) == "es" and spanish["Content-Language"] == "es"
    assert SPANISH_LOGIN in spanish.content.decode()
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert html_lang(english) == "en" and ENGLISH_LOGIN in english.content.decode()


def test_it_follows_the_patients_record_not_the_browser(rosa_client, alice, client):
    page = rosa_client.get("/learn/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert html_lang(page) == "es" and "Aprenda sobre su piel" in page.content.decode()

    client.force_login(alice.user)
    page = client.get("/learn/", HTTP_ACCEPT_LANGUAGE="es")
    assert html_lang(page) == "en" and "Learn about your skin" in page.content.decode()


def test_it_leaves_staff_pages_in_the_browsers_language(derm_client):
    page = derm_client.get("/learn/", HTTP_ACCEPT_LANGUAGE="es")
    assert html_lang(page) == "es"
    assert html_lang(derm_client.get("/learn/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


@pytest.mark.django_db
def test_it_switches_language_before_login_with_djangos_set_language(client):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/accounts/login/?next=/plan/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/plan/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert html_lang(page) == "es" and SPANISH_LOGIN in page.content.decode()


def test_it_saves_the_patients_switch_on_their_record(alice_client, alice):
    response = alice_client.post("/accounts/language/", {"language": "es", "next": "/learn/?q=milia"})
    assert response.status_code == 302 and response["Location"] == "/learn/?q=milia"
    alice.refresh_from_db()
    assert alice.preferred_language == "es"
    assert html_lang(alice_client.get("/learn/", HTTP_ACCEPT_LANGUAGE="en")) == "es"
    # Logged out on the same browser, the login page stays in the patient's language.
    alice_client.post("/accounts/logout/")
    assert SPANISH_LOGIN in alice_client.get("/accounts/login/").content.decode()


def test_it_offers_the_patient_a_switch_that_saves_on_the_record(alice_client):
    page = alice_client.get("/learn/").content.decode()
    assert '<form class="language-switch mt-2 mb-0" method="post" action="/accounts/language/"' in page
    assert '<strong lang="en" aria-current="true">English</strong>' in page
    assert 'name="language" value="es" lang="es"' in page and ">Español</button>" in page
    assert '<span id="language-switch-label">Language:</span>' in page


@pytest.mark.django_db
def test_it_offers_visitors_djangos_switch(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert '<strong lang="es" aria-current="true">Español</strong>' in page
    assert 'value="en" lang="en"' in page and ">English</button>" in page
    assert '<span id="language-switch-label">Idioma:</span>' in page


def test_it_only_switches_by_post(alice_client, alice):
    assert alice_client.get("/accounts/language/?language=es").status_code == 405
    alice.refresh_from_db()
    assert alice.preferred_language == "en"


@pytest.mark.django_db
def test_it_asks_a_visitor_to_log_in_before_saving_a_language(client):
    response = client.post("/accounts/language/", {"language": "es"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_keeps_staff_choice_in_the_cookie_only(derm_client):
    response = derm_client.post("/accounts/language/", {"language": "es", "next": "/learn/"})
    assert response.status_code == 302 and derm_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert html_lang(derm_client.get("/learn/")) == "es"


@pytest.mark.parametrize("code", ["xx", "fr", "", "en'><script>", "e" * 600])
def test_it_saves_english_for_an_unknown_code_from_the_form(alice_client, alice, code):
    alice.preferred_language = "es"
    alice.save()
    response = alice_client.post("/accounts/language/", {"language": code, "next": "/learn/"})
    assert response.status_code == 302 and response["Location"] == "/learn/"
    alice.refresh_from_db()
    assert alice.preferred_language == "en"
    assert alice_client.get("/learn/").status_code == 200


def test_it_saves_a_regional_variant_as_its_language(alice_client, alice):
    alice_client.post("/accounts/language/", {"language": "es-MX"})
    alice.refresh_from_db()
    assert alice.preferred_language == "es"


def test_it_goes_home_for_a_next_outside_the_portal(alice_client):
    for bad in ("https://evil.example/", "//evil.example/", "#x", ""):
        response = alice_client.post("/accounts/language/", {"language": "es", "next": bad})
        assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["xx", "fr", "", "en'><script>"])
def test_it_ignores_an_unknown_code_before_login(client, code):
    response = client.post("/i18n/setlang/", {"language": code, "next": "/accounts/login/"}, follow=True)
    assert response.status_code == 200
    assert html_lang(response) == "en" and ENGLISH_LOGIN in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", ["xx", "fr", "", "es-ES-x-private", "../../etc"])
def test_it_falls_back_to_english_for_an_unknown_cookie(client, cookie):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert html_lang(response) == ("es" if cookie.startswith("es") else "en")


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["xx", "fr-FR,fr;q=0.9", "*", ";q=abc", "e" * 600, "en;q=x,,es;q="])
def test_it_falls_back_to_english_for_an_unknown_accept_language(client, header):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 200 and html_lang(response) == "en"


def test_it_falls_back_to_english_for_an_unknown_code_on_the_record(alice_client, alice):
    # The field's choices stop this in forms; a bulk update or an old import need not.
    Patient.objects.filter(pk=alice.pk).update(preferred_language="fr")
    response = alice_client.get("/learn/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200 and html_lang(response) == "en"
