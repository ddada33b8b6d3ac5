import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from education.models import Article
from portal.models import Patient
from routines import schedule
from routines.models import Plan, PlanStep, RoutineTemplate, StepCheck


def test_it_seeds_the_milia_plan_idempotently(db):
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Plan.objects.count(), StepCheck.objects.count(), RoutineTemplate.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Plan.objects.count(), StepCheck.objects.count(), RoutineTemplate.objects.count()) == counts

    patient = Patient.objects.get(user__username="demo-patient")
    today = patient.local_today()
    plan = Plan.objects.get(patient=patient)
    assert plan.name == "Milia care" and plan.end_date is None
    assert plan.start_date == today - dt.timedelta(days=14)
    assert StepCheck.objects.filter(step__plan=plan, local_date__lt=today).exists()
    template = RoutineTemplate.objects.get(name="Milia care")
    assert set(template.articles.all()) == set(plan.articles.all())


def test_it_has_a_step_every_morning_and_every_evening_of_the_milia_plan(db):
    call_command("seed_demo", stdout=io.StringIO())
    plan = Plan.objects.get(patient__user__username="demo-patient")
    glycolic_days = set()
    for n in range(60):
        day = plan.start_date + dt.timedelta(n)
        due = plan.steps_due_on(day)
        assert due[schedule.MORNING] and due[schedule.EVENING], day
        names = {step.title for step in due[schedule.EVENING]}
        assert not {"Bioclear Serum", "Youth Renewal Retinol Serum"} <= names  # never both on one evening
        if "Bioclear Serum" in names:
            glycolic_days.add(day)
    assert len(glycolic_days) == 30
    assert any("SPF" in step.title for step in plan.steps_due_on(plan.start_date)[schedule.MORNING])


def test_it_ramps_up_demo_patients_retinol(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    plan = Plan.objects.get(patient__user__username="demo-patient")
    retinol = plan.steps.get(product__name="Youth Renewal Retinol Serum")
    assert len(retinol.phase_values()) == 3
    assert retinol.progress_on(plan.patient.local_today()).startswith("Week 3 of 4")
    template = RoutineTemplate.objects.get(name="Milia care")
    assert template.steps.get(product__name="Youth Renewal Retinol Serum").phases.count() == 3


def test_every_milia_care_step_explains_itself_in_english_and_spanish(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    template = RoutineTemplate.objects.get(name="Milia care")
    assert template.name_es == "Cuidado de los milia"
    for steps in (template.steps.all(), Plan.objects.get(patient__user__username="demo-paciente").steps.all()):
        for step in steps.select_related("article", "product"):
            assert step.article is not None and step.article.is_published, step
            # The glycolic acid step links the milia article (its questions ask about glycolic acid); the others
            # their product's.
            expected = "milia-vs-acne" if step.product.name == "Bioclear Serum" else step.product.default_article.slug
            assert step.article.slug == expected, step
            assert step.instructions_es and step.area_es == "cara", step
            assert bool(step.caution_es) == bool(step.caution), step
    milia = Article.objects.get(slug="milia-vs-acne")
    assert list(milia.questions.values_list("question", flat=True)) == [
        "Should you squeeze milia?",
        "How long does glycolic acid dry before the moisturizer?",
    ]
    assert [q.right_answer for q in milia.questions.all()] == ["No, ask us to remove them safely", "Ten minutes"]
    assert Article.objects.get(slug="milia-y-acne").questions.count() == 2  # the Spanish version asks in Spanish


def test_demo_patients_today_page_links_an_article_from_each_step(client, db):
    call_command("seed_demo", stdout=io.StringIO())
    patient = Patient.objects.get(user__username="demo-patient")
    client.force_login(patient.user)
    page = client.get("/").context["page"]
    rows = [row for slot in page.slots for row in slot.rows]
    assert rows and all(row.text.why_url.startswith("/learn/") for row in rows)


def test_it_gives_steps_seeded_before_their_articles_and_spanish_wording(db):
    call_command("seed_demo", stdout=io.StringIO())
    PlanStep.objects.update(article=None, instructions_es="", caution_es="", area_es="")
    call_command("seed_demo", stdout=io.StringIO())
    assert not PlanStep.objects.filter(plan__template__name="Milia care", article=None).exists()
    assert not PlanStep.objects.filter(plan__template__name="Milia care", instructions_es="").exists()


def test_demo_patient_reads_the_glycolic_steps_article_answers_it_and_the_dermatologist_sees_it(client, db):
    """The issue's walk-through: a step's "Why?" leads to the milia article; its two questions, answered
    (one wrongly first), show as read and understood on the patient's admin page."""
    call_command("seed_demo", stdout=io.StringIO())
    patient = Patient.objects.get(user__username="demo-patient")
    glycolic = Plan.objects.get(patient=patient).steps.get(product__name="Bioclear Serum")
    milia = Article.objects.get(slug="milia-vs-acne")
    client.force_login(patient.user)
    plan_page = client.get("/plan/").content.decode()
    assert f'href="/learn/{milia.slug}/"' in plan_page and glycolic.article_id == milia.pk

    assert "Should you squeeze milia?" in client.get(f"/learn/{milia.slug}/").content.decode()
    squeeze, dry = milia.questions.order_by("position")
    url = "/learn/{}/questions/{}/"
    wrong = client.post(url.format(milia.slug, dry.pk), {f"question-{dry.pk}-choice": 1}, follow=True)
    assert "Let it dry for ten minutes" in wrong.content.decode()  # the explanation, and the form again
    for question in (squeeze, dry):
        client.post(url.format(milia.slug, question.pk), {f"question-{question.pk}-choice": question.correct_choice})

    client.force_login(get_user_model().objects.get(username="demo-derm"))
    panel = client.get(f"/admin/portal/patient/{patient.pk}/change/").content.decode()
    panel = panel.split('<table class="reading-panel">', 1)[1].split("</table>", 1)[0]
    row = panel.split(f'/admin/education/article/{milia.pk}/change/"', 1)[1].split("</tr>", 1)[0]
    assert "read on" in row and "understood (2 of 2 right)" in row
