"""Pages for a signed-in user never come back from the browser cache after logout (shared computers)."""

import pytest

from tests.factories import ArticleFactory, PlanFactory

pytestmark = pytest.mark.usefixtures("frozen")


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


def test_it_marks_every_patient_page_private_and_not_stored(alice_client, alice):
    plan = PlanFactory(patient=alice)
    article = ArticleFactory(slug="sunscreen")
    plan.articles.add(article)
    for path in ["/", "/plan/", "/learn/", "/learn/sunscreen/", "/reminders/"]:
        response = alice_client.get(path)
        assert response.status_code == 200, path
        assert {"private", "no-store"} <= cache_control(response), path
