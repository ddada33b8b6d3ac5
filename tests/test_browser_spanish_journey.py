"""demo-paciente in a real browser: today's steps in her Spanish, a "Why?" link to the Spanish article that
explains a step, the milia article's teach-back answered wrongly then rightly, a tick, her plan, reminder
settings and plan PDF with no English left; axe-core finds nothing serious on the way (as
tests/test_browser_accessibility.py checks every page)."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from pypdf import PdfReader

from education.models import ArticleRead, TeachBackAnswer, TeachBackQuestion
from portal import roles
from portal.demo import DEMO_PASSWORD
from routines.models import PlanStep, StepCheck
from tests.axe import AXE_JS, violations
from tests.untranslated import english_left


@pytest.fixture
def spanish_phone(chromium):
    # bypass_csp lets axe-core be injected as an inline script (see test_browser_accessibility).
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="es-MX", bypass_csp=True
    )
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_demo_paciente_reads_why_and_answers_a_question_wrongly_then_rightly(
    transactional_db, live_server, spanish_phone
):
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run `make install` (npm ci)"
    for name in roles.ROLE_PERMISSIONS:  # seed_demo's staff groups (an earlier flush may have emptied them)
        Group.objects.get_or_create(name=name)
    call_command("seed_demo", stdout=io.StringIO())
    page, base = spanish_phone, live_server.url

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "demo-paciente")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_url(f"{base}/")
    assert page.locator("html").get_attribute("lang") == "es"

    # Today: the sunscreen step (every morning) in the Spanish the clinic wrote for it.
    sunscreen = PlanStep.objects.get(
        plan__patient__user__username="demo-paciente", product__name="Broad-Spectrum Sunscreen SPF 30+"
    )
    card = page.locator(f"#step-{sunscreen.pk}")
    assert sunscreen.instructions_es in card.inner_text()
    assert sunscreen.instructions not in page.content()
    assert "Cuidado de los milia" in page.locator("main, body").first.inner_text()
    assert not violations(page, base, "/")

    # Its "Why?" link: the Spanish version of the sunscreen article, which says how she uses it.
    card.locator(".why a").click()
    page.wait_for_url(f"{base}/learn/protector-solar-diario/")
    assert page.locator("h1").inner_text() == "Protector solar a diario para prevenir los milia"
    assert "Broad-Spectrum Sunscreen SPF 30+" in page.locator(".in-your-plan").inner_text()
    assert ArticleRead.objects.filter(patient__user__username="demo-paciente", article__slug="protector-solar-diario")

    # The milia article's teach-back, in Spanish: a wrong answer is explained, then the right one is taken.
    page.goto(f"{base}/learn/milia-y-acne/")
    squeeze = TeachBackQuestion.objects.get(article__slug="milia-y-acne", position=1)
    question = page.locator(f"#question-{squeeze.pk}")
    question.get_by_label("Sí, así se van más rápido").check()
    question.locator("[type=submit]").click()
    page.wait_for_url(f"{base}/learn/milia-y-acne/#question-{squeeze.pk}")
    question = page.locator(f"#question-{squeeze.pk}")
    assert "Los milia son quistes cerrados" in question.locator(".alert").inner_text()
    assert not violations(page, base, "/learn/milia-y-acne/")

    question.get_by_label("No, pídanos que los saquemos sin riesgo").check()
    question.locator("[type=submit]").click()
    page.wait_for_url(f"{base}/learn/milia-y-acne/#question-{squeeze.pk}")
    question = page.locator(f"#question-{squeeze.pk}")
    assert "No, pídanos que los saquemos sin riesgo" in question.inner_text()
    assert question.locator("form").count() == 0
    answers = TeachBackAnswer.objects.filter(question=squeeze).order_by("answered_at", "pk")
    assert [(a.choice, a.correct) for a in answers] == [(1, False), (2, True)]
    assert not violations(page, base, "/learn/milia-y-acne/")

    # Tick the sunscreen (a plain form post), then the plan, the reminder settings and the plan PDF: all Spanish.
    page.goto(f"{base}/")
    page.locator(f"#step-{sunscreen.pk} .check-button").click()
    page.wait_for_url(f"{base}/#step-{sunscreen.pk}")
    assert page.locator(f"#step-{sunscreen.pk} .check-button").get_attribute("aria-pressed") == "true"
    assert StepCheck.objects.filter(step=sunscreen).count() == 1
    for path in ("/", "/plan/", "/reminders/"):
        page.goto(f"{base}{path}")
        assert english_left(page.content()) == [], path
        assert not violations(page, base, path)
    pdf = page.request.get(f"{base}/plan/handout.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert sunscreen.instructions_es.split()[0] in text and "Cuidado de los milia" in text
    assert sunscreen.instructions not in text
