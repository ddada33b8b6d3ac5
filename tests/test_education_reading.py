"""Reading is recorded: a patient's GET of an article page notes the published revision read, first and last
time, once per revision; staff see it on the patient page ("read on", "not opened yet", "updated since
read", "understood"); education/reading.py answers the weekly digest's "what next"."""

import datetime as dt

import pytest
from django.utils import timezone

from education.models import Article, ArticleRead, TeachBackQuestion
from education.reading import next_to_read, reading_status
from tests.factories import ArticleFactory, PlanFactory

pytestmark = pytest.mark.usefixtures("frozen")


def republish(article: Article, by) -> None:
    """A new revision: back to review, then published again."""
    article.status = Article.Status.IN_REVIEW
    article.save()
    article.publish(by=by)


def ask(article: Article, right: int = 2) -> TeachBackQuestion:
    return TeachBackQuestion.objects.create(
        article=article, question="Should you squeeze milia?", choice_1="Yes", choice_2="No", correct_choice=right,
        explanation="They are closed cysts.",
    )  # fmt: skip


@pytest.fixture
def milia(derm):
    article = ArticleFactory(slug="milia", title="Milia", status=Article.Status.IN_REVIEW)
    article.publish(by=derm)
    return article


def test_it_records_a_read_once_per_revision_with_first_and_last_time(alice_client, alice, derm, milia, frozen):
    first = timezone.now()
    assert alice_client.get("/learn/milia/").status_code == 200
    frozen.shift(dt.timedelta(hours=3))
    alice_client.get("/learn/milia/")
    (read,) = ArticleRead.objects.all()
    assert (read.patient, read.article, read.revision) == (alice, milia, 1)
    assert read.first_at == first and read.last_at == first + dt.timedelta(hours=3)

    republish(milia, derm)
    alice_client.get("/learn/milia/")
    assert sorted(ArticleRead.objects.values_list("revision", flat=True)) == [1, 2]


def test_it_records_nothing_for_a_head_request_staff_or_a_draft(client, alice, derm, milia):
    client.force_login(alice.user)
    assert client.head("/learn/milia/").status_code == 200
    client.force_login(derm)
    draft = ArticleFactory(slug="draft", status=Article.Status.DRAFT)
    assert client.get("/learn/milia/").status_code == 200 and client.get("/learn/draft/").status_code == 200
    assert not ArticleRead.objects.exists()
    client.force_login(alice.user)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert not ArticleRead.objects.exists()


def test_it_records_the_version_a_spanish_reader_is_sent_to(rosa_client, rosa, milia):
    spanish = ArticleFactory(slug="milia-es", language="es", translation_of=milia, revision=1)
    assert rosa_client.get("/learn/milia/", follow=True).redirect_chain == [("/learn/milia-es/", 302)]
    assert list(ArticleRead.objects.values_list("article", flat=True)) == [spanish.pk]


def test_it_keeps_one_row_when_two_reads_of_a_revision_meet(alice, milia):
    now = timezone.now()
    # Two tabs at once: the second INSERT meets the unique constraint and updates the first row instead.
    ArticleRead.objects.record(patient=alice, article=milia, now=now)
    ArticleRead.objects.record(patient=alice, article=milia, now=now + dt.timedelta(seconds=1))
    (read,) = ArticleRead.objects.all()
    assert read.first_at == now and read.last_at == now + dt.timedelta(seconds=1)


def test_it_says_what_is_next_to_read_and_understand(alice, bob, derm, django_assert_num_queries):
    basics, sunscreen, quiz = (ArticleFactory(slug=slug, revision=1) for slug in ("basics", "sunscreen", "quiz"))
    question = ask(quiz)
    articles = [basics, sunscreen, quiz]
    assert next_to_read(alice, articles) == basics
    now = timezone.now()
    for article in articles:
        ArticleRead.objects.record(patient=alice, article=article, now=now)
    with django_assert_num_queries(2):
        assert next_to_read(alice, articles) == quiz  # read, but its question not yet answered right
    question.answer(patient=alice, choice=1, revision=1)
    assert next_to_read(alice, articles) == quiz
    question.answer(patient=alice, choice=2, revision=1)
    assert next_to_read(alice, articles) is None
    assert next_to_read(bob, articles) == basics  # alice's reading is hers alone
    republish(sunscreen, derm)
    assert next_to_read(alice, articles) == sunscreen


def test_it_reports_each_articles_status(alice, derm):
    read, unread, updated = (ArticleFactory(slug=slug, revision=1) for slug in ("read", "unread", "updated"))
    question = ask(read)
    now = timezone.now()
    ArticleRead.objects.record(patient=alice, article=read, now=now)
    ArticleRead.objects.record(patient=alice, article=updated, now=now)
    question.answer(patient=alice, choice=2, revision=1)
    republish(updated, derm)
    statuses = reading_status(alice, [read, unread, updated])
    assert [(s.article, s.read, s.read_before, s.understood) for s in statuses] == [
        (read, True, False, True),
        (unread, False, False, None),
        (updated, False, True, None),
    ]


def test_a_new_revision_asks_the_questions_again(alice, derm, milia):
    question = ask(milia)
    ArticleRead.objects.record(patient=alice, article=milia, now=timezone.now())
    question.answer(patient=alice, choice=2, revision=milia.revision)
    assert reading_status(alice, [milia])[0].understood
    republish(milia, derm)
    ArticleRead.objects.record(patient=alice, article=milia, now=timezone.now())
    (status,) = reading_status(alice, [milia])
    assert status.read and status.understood is False and status.answered_right == 0


def test_it_shows_staff_the_plans_articles_read_or_not_and_understood_or_not(client, derm, desk, alice, bob):
    read, unread, updated, other = (
        ArticleFactory(slug=slug, title=slug.title(), revision=1) for slug in ("read", "unread", "updated", "other")
    )
    PlanFactory(patient=alice, articles=[read, unread, updated])
    PlanFactory(patient=bob, articles=[other])
    ask(read)
    ask(unread)
    now = timezone.now()
    for article in (read, updated, other):
        ArticleRead.objects.record(patient=alice, article=article, now=now)
    ArticleRead.objects.record(patient=bob, article=unread, now=now)
    republish(updated, derm)
    # Whether the patient understood is clinical: the front desk opens the same page without the panel.
    client.force_login(desk)
    assert "Reading and understanding" not in client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    client.force_login(derm)
    html = client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    assert "Reading and understanding" in html
    rows = html.split('<table class="reading-panel">', 1)[1].split("</table>", 1)[0]
    assert f'<a href="/admin/education/article/{read.pk}/change/">Read</a></td><td>read on 10 March</td>' in rows
    assert "<td>not yet (0 of 1 right)</td>" in rows
    assert "Unread</a></td><td>not opened yet</td><td>not yet (0 of 1 right)</td>" in rows
    assert "Updated</a></td><td>updated since read</td><td>no questions</td>" in rows
    assert "Other" not in rows  # bob's article and bob's reading stay on bob's page


def test_it_tells_staff_when_there_is_nothing_to_read(derm_client, alice):
    html = derm_client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    assert "No articles in the current plan." in html


def test_a_patient_never_reaches_the_staff_panel(alice_client, alice, bob):
    for patient in (alice, bob):
        response = alice_client.get(f"/admin/portal/patient/{patient.pk}/change/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
