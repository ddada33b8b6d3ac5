"""/learn/ in pages, and its search: full-text in each article's language on PostgreSQL, a substring match on SQLite."""

import pytest
from django.db import connection

from education.models import Article
from education.search import prefix_query
from education.views import LIBRARY_PAGE_SIZE
from tests.factories import ArticleFactory

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL's")


def listed(response) -> list[str]:
    return [article.title for _, articles in response.context["groups"] for article in articles]


@pytest.mark.django_db
def test_it_pages_the_library(alice_client):
    for n in range(LIBRARY_PAGE_SIZE + 5):
        ArticleFactory(slug=f"article-{n:02d}")
    first = alice_client.get("/learn/")
    assert len(listed(first)) == LIBRARY_PAGE_SIZE
    assert first.context["page_obj"].paginator.num_pages == 2
    assert 'href="?page=2"' in first.content.decode()

    second = alice_client.get("/learn/", {"page": 2})
    assert listed(second) == [f"Article {n:02d}" for n in range(LIBRARY_PAGE_SIZE, LIBRARY_PAGE_SIZE + 5)]
    assert not set(listed(first)) & set(listed(second))
    assert 'href="?page=1"' in second.content.decode()
    # A page number out of range or not a number shows a page, never an error.
    assert listed(alice_client.get("/learn/", {"page": 99})) == listed(second)
    assert listed(alice_client.get("/learn/", {"page": "x"})) == listed(first)


@pytest.mark.django_db
def test_it_keeps_the_search_in_the_page_links(alice_client):
    for n in range(LIBRARY_PAGE_SIZE + 1):
        ArticleFactory(slug=f"sunscreen-{n:02d}", body="Sunscreen every morning.")
    ArticleFactory(slug="unrelated")
    page = alice_client.get("/learn/", {"q": "sunscreen"}).content.decode()
    assert 'href="?q=sunscreen&amp;page=2"' in page


@pytest.mark.django_db
def test_it_makes_as_many_queries_for_the_tenth_page_as_for_the_first(alice_client, django_assert_max_num_queries):
    for n in range(LIBRARY_PAGE_SIZE * 10):
        ArticleFactory(slug=f"article-{n:03d}")
    alice_client.get("/learn/")  # warm up: session, user, patient
    with django_assert_max_num_queries(8) as first:
        alice_client.get("/learn/")
    with django_assert_max_num_queries(len(first.captured_queries)):
        alice_client.get("/learn/", {"page": 10})


@pytest.mark.django_db
def test_it_finds_an_article_by_a_word_in_its_body(alice_client):
    ArticleFactory(slug="milia-care", body="Use a gentle exfoliating cleanser every morning, then sunscreen.")
    ArticleFactory(slug="acne-care", body="Wash twice a day.")
    ArticleFactory(slug="draft", body="A gentle exfoliating draft.", status=Article.Status.DRAFT)
    assert listed(alice_client.get("/learn/", {"q": "exfoliating"})) == ["Milia Care"]
    assert listed(alice_client.get("/learn/", {"q": "Exfoliating cleanser"})) == ["Milia Care"]
    assert listed(alice_client.get("/learn/", {"q": "eczema"})) == []


@on_postgresql
@pytest.mark.django_db
def test_it_finds_a_spanish_article_by_a_spanish_word_in_its_own_language(alice_client):
    ArticleFactory(
        slug="cuidado-de-los-parpados",
        title="Cuidado de la piel",
        body="Aplique la crema con cuidado alrededor de los párpados, sin frotar.",
        language="es",
    )
    ArticleFactory(slug="eyelid-care", body="Keep the cream away from your eyelids.")
    # Spanish stemming: "párpado" (singular) and "frotando" find "párpados" and "frotar".
    assert listed(alice_client.get("/learn/", {"q": "párpado"})) == ["Cuidado de la piel"]
    assert listed(alice_client.get("/learn/", {"q": "frotando"})) == ["Cuidado de la piel"]
    assert listed(alice_client.get("/learn/", {"q": "eyelid"})) == ["Eyelid Care"]


@on_postgresql
@pytest.mark.django_db
def test_it_searches_english_articles_with_english_stemming(alice_client):
    ArticleFactory(slug="exfoliation", body="Exfoliating gently twice a week clears milia.")
    assert listed(alice_client.get("/learn/", {"q": "exfoliates"})) == ["Exfoliation"]
    assert listed(alice_client.get("/learn/", {"q": "clearing"})) == ["Exfoliation"]


def test_it_builds_a_query_only_from_words():
    assert prefix_query("milia & !(acne) | 'x':*") == "milia:* & acne:* & x:*"
    assert prefix_query("párpados") == "párpados:*"
    assert prefix_query("&|!") == ""


@pytest.mark.django_db
def test_a_query_of_symbols_only_finds_nothing_and_breaks_nothing(alice_client):
    ArticleFactory(slug="milia-care")
    response = alice_client.get("/learn/", {"q": "&|!():*"})
    assert response.status_code == 200 and listed(response) == []
