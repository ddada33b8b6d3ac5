"""Crafted input that used to end in a server error: a form's `next`, an admin history id."""

import pytest

from education.models import Article
from routines.models import StepCheck
from tests.factories import ArticleFactory, PlanFactory

# next as posted -> where the patient is sent (before the "#step-N" the view adds)
NEXT_TARGETS = [
    ("/", "/"),
    ("/plan/", "/plan/"),
    ("/plan/?week=2#old", "/plan/?week=2"),
    ("#x", "/"),
    ("?x", "/"),
    ("", "/"),
    ("plan", "/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example/", "/"),
    ("/\t/evil.example/", "/"),
    ("http://testserver/plan/", "/"),
    ("javascript:alert(1)", "/"),
    ("http://[::1", "/"),
]


pytestmark = pytest.mark.usefixtures("frozen")


@pytest.mark.parametrize("action", ["check", "acknowledge"])
def test_it_returns_only_to_a_local_path_whatever_next_says(alice_client, alice, action):
    step = PlanFactory(patient=alice).steps.first()
    for posted, expected in NEXT_TARGETS:
        response = alice_client.post(f"/plan/steps/{step.pk}/{action}/", {"next": posted})
        assert response.status_code == 302, posted
        assert response["Location"] == f"{expected}#step-{step.pk}", posted


def test_it_saves_the_tick_once_for_a_crafted_next(alice_client, alice):
    step = PlanFactory(patient=alice).steps.first()
    response = alice_client.post(f"/plan/steps/{step.pk}/check/", {"next": "#x"})
    assert response.status_code == 302
    assert StepCheck.objects.filter(step=step).count() == 1


@pytest.mark.django_db
def test_it_404s_for_an_article_history_id_that_is_not_a_number(derm_client):
    article = ArticleFactory(status=Article.Status.DRAFT)
    version = article.history.get().history_id
    base = f"/admin/education/article/{article.pk}"
    assert derm_client.get(f"{base}/history/{version}/").status_code == 200
    assert derm_client.get(f"{base}/history/abc/").status_code == 404
    assert derm_client.post(f"{base}/history/abc/", {"title": "x"}).status_code == 404
    assert derm_client.get(f"/admin/education/article/abc/history/{version}/").status_code == 404
    assert derm_client.get("/admin/education/article/abc/history/").status_code == 404
