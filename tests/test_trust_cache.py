"""Pages for a signed-in user never come back from the browser cache after logout (shared computers)."""

import pytest
import time_machine

from education.models import Article
from tests.test_routines_support import NOON_UTC, make_plan


@pytest.fixture(autouse=True)
def frozen():
    """Freeze time before any login, so sessions are not already expired."""
    with time_machine.travel(NOON_UTC, tick=False) as traveller:
        yield traveller


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


def test_it_marks_every_patient_page_private_and_not_stored(alice_client, alice):
    plan = make_plan(alice)
    article = Article.objects.create(slug="sunscreen", title="Sunscreen", body="Every morning.", status="published")
    plan.articles.add(article)
    for path in ["/", "/plan/", "/learn/", "/learn/sunscreen/", "/reminders/"]:
        response = alice_client.get(path)
        assert response.status_code == 200, path
        assert {"private", "no-store"} <= cache_control(response), path
