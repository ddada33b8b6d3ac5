"""Every step explains itself: a "Why?" link on the today page and /plan/ to the published article that
explains the step (its own, else its product's), in the patient's language; the article page says where
it fits in the patient's plan."""

import pytest

from education.models import Article
from portal.models import AccessLog
from routines import schedule
from tests.factories import ArticleFactory, PlanFactory, PlanStepFactory, ProductFactory

pytestmark = pytest.mark.usefixtures("frozen")

EVERY_OTHER_EVENING = {"slot": schedule.EVENING, "frequency": schedule.EVERY_N_DAYS, "interval_days": 2}


@pytest.fixture
def sunscreen(db):
    return ArticleFactory(slug="daily-sunscreen", title="Daily sunscreen")


@pytest.fixture
def protector(sunscreen):
    return ArticleFactory(slug="protector-solar", title="Protector solar", language="es", translation_of=sunscreen)


@pytest.fixture
def glycolic(db):
    return ArticleFactory(slug="glycolic-acid", title="Glycolic acid")


def plan_with_steps(patient, *, sunscreen, glycolic):
    """Sunscreen (its product's article), a serum (its own article, over its product's), a cleanser
    (no article) and a moisturizer whose article is still a draft."""
    draft = ArticleFactory(slug="draft-moisturizer", status=Article.Status.DRAFT)
    plan = PlanFactory(patient=patient, steps=0)
    PlanStepFactory(plan=plan, order=1, product=ProductFactory(name="Sunscreen", default_article=sunscreen))
    PlanStepFactory(
        plan=plan,
        order=2,
        product=ProductFactory(name="Glycolic Serum", default_article=sunscreen),
        article=glycolic,
        **EVERY_OTHER_EVENING,
    )
    PlanStepFactory(plan=plan, order=3, product=ProductFactory(name="Cleanser"))
    PlanStepFactory(
        plan=plan, order=4, slot=schedule.EVENING, product=ProductFactory(name="Moisturizer"), article=draft
    )
    return plan


def why_links(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('<p class="why mb-0 mt-1 small no-print"><a href="')[1:]]


@pytest.mark.parametrize("path", ["/", "/plan/"])
def test_it_links_each_step_to_the_article_that_explains_it(alice_client, alice, sunscreen, glycolic, path):
    plan_with_steps(alice, sunscreen=sunscreen, glycolic=glycolic)
    html = alice_client.get(path).content.decode()
    # The step's own article wins over its product's; no link for a step without one or with a draft.
    assert why_links(html) == ["/learn/daily-sunscreen/", "/learn/glycolic-acid/"]
    assert 'Why?<span class="visually-hidden"> About Glycolic Serum</span></a>' in html


@pytest.mark.parametrize("path", ["/", "/plan/"])
def test_it_links_a_spanish_reader_to_the_spanish_version_else_the_english(
    rosa_client, rosa, sunscreen, protector, glycolic, path
):
    plan_with_steps(rosa, sunscreen=sunscreen, glycolic=glycolic)
    assert why_links(rosa_client.get(path).content.decode()) == ["/learn/protector-solar/", "/learn/glycolic-acid/"]


def test_it_links_an_english_reader_to_the_original_of_a_linked_translation(alice_client, alice, sunscreen, protector):
    PlanStepFactory(plan=PlanFactory(patient=alice, steps=0), order=1, article=protector)
    assert why_links(alice_client.get("/").content.decode()) == ["/learn/daily-sunscreen/"]


def test_it_skips_a_translation_still_in_review(rosa_client, rosa, sunscreen, protector):
    Article.objects.filter(pk=protector.pk).update(status=Article.Status.IN_REVIEW)
    PlanStepFactory(plan=PlanFactory(patient=rosa, steps=0), order=1, product=ProductFactory(default_article=sunscreen))
    assert why_links(rosa_client.get("/").content.decode()) == ["/learn/daily-sunscreen/"]


@pytest.mark.parametrize("path, most", [("/", 7), ("/plan/", 8)])
def test_it_finds_the_links_in_one_query_however_many_steps(
    rosa_client, rosa, sunscreen, protector, glycolic, path, most, django_assert_max_num_queries
):
    plan = plan_with_steps(rosa, sunscreen=sunscreen, glycolic=glycolic)
    plan.articles.set([sunscreen, glycolic])
    rosa_client.get(path)
    # Session and user, the plan, its steps (each with its article's topic), their phases, the links'
    # versions (one query for all steps), the plan's articles on /plan/, the access log row.
    with django_assert_max_num_queries(most):
        assert rosa_client.get(path).status_code == 200
    for n in range(8):
        PlanStepFactory(plan=plan, order=10 + n, product=ProductFactory(default_article=glycolic))
    with django_assert_max_num_queries(most):
        assert rosa_client.get(path).status_code == 200


def test_it_tells_the_patient_where_the_article_fits_in_their_plan(alice_client, alice, sunscreen, glycolic):
    plan = plan_with_steps(alice, sunscreen=sunscreen, glycolic=glycolic)
    serum = plan.steps.get(product__name="Glycolic Serum")
    html = alice_client.get("/learn/glycolic-acid/").content.decode()
    assert "In your plan" in html
    assert f"You use <strong>Glycolic Serum</strong>: {serum.frequency_text}" in html
    assert serum.frequency_text == "Every other evening"
    # The sunscreen article explains the sunscreen step only (the serum names its own article).
    html = alice_client.get("/learn/daily-sunscreen/").content.decode()
    assert "<strong>Sunscreen</strong>" in html and "<strong>Glycolic Serum</strong>" not in html
    # Showing where it fits shows part of the plan: logged like the plan page.
    logged = AccessLog.objects.filter(patient=alice, action=AccessLog.VIEW, what__contains="its place in the plan")
    assert logged.count() == 2


def test_it_tells_a_spanish_reader_on_the_spanish_version(rosa_client, rosa, sunscreen, protector, glycolic):
    plan_with_steps(rosa, sunscreen=sunscreen, glycolic=glycolic)
    html = rosa_client.get("/learn/protector-solar/").content.decode()
    assert "<strong>Sunscreen</strong>" in html


def test_it_says_nothing_to_a_patient_whose_plan_does_not_use_it(client, alice, bob, sunscreen, glycolic):
    plan_with_steps(alice, sunscreen=sunscreen, glycolic=glycolic)
    PlanFactory(patient=bob)
    client.force_login(bob.user)
    html = client.get("/learn/glycolic-acid/").content.decode()
    assert "In your plan" not in html and "Glycolic Serum" not in html
    assert not AccessLog.objects.filter(what__contains="its place in the plan").exists()


def test_it_lists_the_step_articles_among_the_patients_own_on_learn(alice_client, alice, sunscreen, glycolic):
    plan_with_steps(alice, sunscreen=sunscreen, glycolic=glycolic)
    ArticleFactory(slug="unrelated")
    mine = alice_client.get("/learn/").context["mine"]
    assert {article.slug for article in mine} == {"daily-sunscreen", "glycolic-acid"}
