"""/learn/: the patient's plan articles first, then the library by condition, with search."""

import datetime as dt

import pytest

from education.models import Article, Condition
from portal.models import AccessLog
from routines.models import Plan


@pytest.fixture
def milia(db):
    return Condition.objects.create(name="Milia", slug="milia", icd10_code="L72.0")


@pytest.fixture
def acne(db):
    return Condition.objects.create(name="Acne", slug="acne")


def make_article(slug, *conditions, status=Article.Status.PUBLISHED, **fields):
    fields.setdefault("title", slug.replace("-", " ").title())
    article = Article.objects.create(slug=slug, status=status, body="Short and clear.", **fields)
    article.conditions.set(conditions)
    return article


def titles(groups):
    return {name: [a.title for a in articles] for name, articles in groups}


@pytest.mark.django_db
def test_it_groups_the_library_by_condition(alice_client, milia, acne):
    make_article("gentle-exfoliation", milia)
    make_article("spf-daily", milia, acne)
    make_article("handwashing")
    make_article("secret-draft", milia, status=Article.Status.DRAFT)
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
    make_article("gentle-exfoliation", milia)
    make_article("spf-daily", acne, summary="Sunscreen every morning")
    make_article("secret-draft", milia, status=Article.Status.DRAFT)

    by_condition = alice_client.get("/learn/", {"q": "mili"})
    assert titles(by_condition.context["groups"]) == {"Milia": ["Gentle Exfoliation"]}
    assert b"Gentle Exfoliation" in by_condition.content and b"Secret Draft" not in by_condition.content

    assert titles(alice_client.get("/learn/", {"q": "SUNSCREEN"}).context["groups"]) == {"Acne": ["Spf Daily"]}
    assert titles(alice_client.get("/learn/", {"q": "exfol"}).context["groups"]) == {"Milia": ["Gentle Exfoliation"]}
    nothing = alice_client.get("/learn/", {"q": "eczema"})
    assert nothing.context["groups"] == [] and "No articles match" in nothing.content.decode()


@pytest.mark.django_db
def test_it_lists_the_articles_of_the_patients_own_running_plan_first(alice_client, alice, bob, milia):
    mine = make_article("glycolic-acid", milia)
    bobs = make_article("bobs-article", milia)
    hidden = make_article("in-review", milia, status=Article.Status.IN_REVIEW)
    today = alice.local_today()
    plan = Plan.objects.create(patient=alice, name="Milia care", start_date=today - dt.timedelta(days=3))
    plan.articles.set([mine, hidden])
    ended = Plan.objects.create(
        patient=alice, name="Old", start_date=today - dt.timedelta(days=90), end_date=today - dt.timedelta(days=60)
    )
    ended.articles.set([bobs])
    Plan.objects.create(patient=bob, name="Bob's", start_date=today).articles.set([bobs])

    response = alice_client.get("/learn/")
    assert response.context["mine"] == [mine]
    page = response.content.decode()
    assert page.index("From your care plan") < page.index("Glycolic Acid") < page.index("Library")
    # Listing the plan's articles reads the plan: logged like any other view of it.
    assert AccessLog.objects.filter(patient=alice, what="Learn: the plan's articles").count() == 1
    assert not AccessLog.objects.filter(patient=bob).exists()


@pytest.mark.django_db
def test_it_shows_an_empty_plan_section_when_no_articles_are_linked(alice_client, milia):
    make_article("gentle-exfoliation", milia)
    response = alice_client.get("/learn/")
    assert response.context["mine"] == []
    assert "has not added articles to your plan yet" in response.content.decode()


@pytest.mark.django_db
def test_it_does_not_run_more_queries_with_more_articles(
    alice_client, alice, milia, acne, django_assert_max_num_queries
):
    plan = Plan.objects.create(patient=alice, name="Milia care", start_date=alice.local_today())
    plan.articles.set([make_article("first", milia)])
    alice_client.get("/learn/")  # warm up: session, user, patient
    with django_assert_max_num_queries(8) as few:
        alice_client.get("/learn/")

    for n in range(30):
        article = make_article(f"article-{n}", milia if n % 2 else acne)
        plan.articles.add(article)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = alice_client.get("/learn/")
    assert len(response.context["mine"]) == 31


def test_it_refuses_a_search_with_control_characters_clearly(alice_client):
    response = alice_client.get("/learn/", {"q": "milia\x00"})
    assert response.status_code == 200
    assert b"Null characters are not allowed" in response.content
