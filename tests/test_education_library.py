"""/learn/: the patient's plan articles first, then the library by condition, with search."""

import datetime as dt

import pytest

from education.models import Article
from portal.models import AccessLog
from tests.factories import ArticleFactory, ConditionFactory, PlanFactory


@pytest.fixture
def milia(db):
    return ConditionFactory(name="Milia", icd10_code="L72.0")


@pytest.fixture
def acne(db):
    return ConditionFactory(name="Acne")


def titles(groups):
    return {name: [a.title for a in articles] for name, articles in groups}


@pytest.mark.django_db
def test_it_groups_the_library_by_condition(alice_client, milia, acne):
    ArticleFactory(slug="gentle-exfoliation", conditions=[milia])
    ArticleFactory(slug="spf-daily", conditions=[milia, acne])
    ArticleFactory(slug="handwashing")
    ArticleFactory(slug="secret-draft", conditions=[milia], status=Article.Status.DRAFT)
    response = alice_client.get("/learn/")
    assert response.status_code == 200
    assert titles(response.context["groups"]) == {
        "Acne": ["Spf Daily"],
        "Milia": ["Gentle Exfoliation", "Spf Daily"],
        "Other topics": ["Handwashing"],
    }
    assert [name for name, _ in response.context["groups"]] == ["Acne", "Milia", "Other topics"]


@pytest.mark.django_db
def test_it_searches_by_condition_title_and_summary(alice_client, milia, acne):
    ArticleFactory(slug="gentle-exfoliation", conditions=[milia])
    ArticleFactory(slug="spf-daily", conditions=[acne], summary="Sunscreen every morning")
    ArticleFactory(slug="secret-draft", conditions=[milia], status=Article.Status.DRAFT)

    by_condition = alice_client.get("/learn/", {"q": "mili"})
    assert titles(by_condition.context["groups"]) == {"Milia": ["Gentle Exfoliation"]}
    assert b"Gentle Exfoliation" in by_condition.content and b"Secret Draft" not in by_condition.content

    assert titles(alice_client.get("/learn/", {"q": "SUNSCREEN"}).context["groups"]) == {"Acne": ["Spf Daily"]}
    assert titles(alice_client.get("/learn/", {"q": "exfol"}).context["groups"]) == {"Milia": ["Gentle Exfoliation"]}
    nothing = alice_client.get("/learn/", {"q": "eczema"})
    assert nothing.context["groups"] == [] and "No articles match" in nothing.content.decode()


@pytest.mark.django_db
def test_it_lists_the_articles_of_the_patients_own_running_plan_first(alice_client, alice, bob, milia):
    mine = ArticleFactory(slug="glycolic-acid", conditions=[milia])
    bobs = ArticleFactory(slug="bobs-article", conditions=[milia])
    hidden = ArticleFactory(slug="in-review", conditions=[milia], status=Article.Status.IN_REVIEW)
    today = alice.local_today()
    PlanFactory(patient=alice, start_date=today - dt.timedelta(days=3), articles=[mine, hidden], steps=0)
    end = today - dt.timedelta(days=60)
    PlanFactory(patient=alice, start_date=today - dt.timedelta(days=90), end_date=end, articles=[bobs], steps=0)
    PlanFactory(patient=bob, start_date=today, articles=[bobs], steps=0)

    response = alice_client.get("/learn/")
    assert response.context["mine"] == [mine]
    page = response.content.decode()
    assert page.index("From your care plan") < page.index("Glycolic Acid") < page.index("Library")
    # Listing the plan's articles reads the plan: logged like any other view of it.
    assert AccessLog.objects.filter(patient=alice, what="Learn: the plan's articles").count() == 1
    assert not AccessLog.objects.filter(patient=bob).exists()


@pytest.mark.django_db
def test_it_shows_an_empty_plan_section_when_no_articles_are_linked(alice_client, milia):
    ArticleFactory(slug="gentle-exfoliation", conditions=[milia])
    response = alice_client.get("/learn/")
    assert response.context["mine"] == []
    assert "has not added articles to your plan yet" in response.content.decode()


@pytest.mark.django_db
def test_it_does_not_run_more_queries_with_more_articles(
    alice_client, alice, milia, acne, django_assert_max_num_queries
):
    plan = PlanFactory(patient=alice, start_date=alice.local_today(), steps=0)
    plan.articles.set([ArticleFactory(slug="first", conditions=[milia])])
    alice_client.get("/learn/")  # warm up: session, user, patient
    with django_assert_max_num_queries(8) as few:
        alice_client.get("/learn/")

    for n in range(30):
        article = ArticleFactory(slug=f"article-{n}", conditions=[milia if n % 2 else acne])
        plan.articles.add(article)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = alice_client.get("/learn/")
    assert len(response.context["mine"]) == 31


def test_it_refuses_a_search_with_control_characters_clearly(alice_client):
    response = alice_client.get("/learn/", {"q": "milia\x00"})
    assert response.status_code == 200
    assert b"Null characters are not allowed" in response.content
