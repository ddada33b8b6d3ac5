"""Teach-back: up to three questions at the end of an article, answered by POST; a wrong answer is explained
and asked again; every attempt is stored; the questions are the article's text, reviewed with it."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from education.models import Article, TeachBackAnswer, TeachBackQuestion
from portal.models import AccessLog
from tests.admin_forms import management_form
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def milia(derm):
    article = ArticleFactory(slug="milia", title="Milia", status=Article.Status.IN_REVIEW)
    article.publish(by=derm)
    return article


@pytest.fixture
def squeeze(milia):
    return TeachBackQuestion.objects.create(
        article=milia,
        position=1,
        question="Should you squeeze milia?",
        choice_1="Yes, it is the quickest way",
        choice_2="No, ask us to remove them",
        correct_choice=2,
        explanation="Milia are closed cysts: squeezing can hurt your skin.",
    )


def answer_url(question) -> str:
    return f"/learn/{question.article.slug}/questions/{question.pk}/"


def answer(client, question, choice):
    return client.post(answer_url(question), {f"question-{question.pk}-choice": choice})


def test_it_explains_a_wrong_answer_and_asks_again_then_takes_the_right_one(alice_client, alice, squeeze):
    page = alice_client.get("/learn/milia/").content.decode()
    assert "Check what you know" in page and "Should you squeeze milia?" in page
    assert f'action="{answer_url(squeeze)}"' in page and "csrfmiddlewaretoken" in page
    assert "closed cysts" not in page  # the explanation waits for an answer

    response = answer(alice_client, squeeze, 1)
    assert response.status_code == 302 and response["Location"] == f"/learn/milia/#question-{squeeze.pk}"
    page = alice_client.get("/learn/milia/").content.decode()
    assert "Not quite." in page and "closed cysts" in page
    assert f'action="{answer_url(squeeze)}"' in page  # try again

    answer(alice_client, squeeze, 2)
    page = alice_client.get("/learn/milia/").content.decode()
    assert "Not quite." not in page and f'action="{answer_url(squeeze)}"' not in page
    assert "No, ask us to remove them" in page and "You answered every question right." in page
    attempts = TeachBackAnswer.objects.filter(patient=alice).order_by("answered_at", "pk")
    assert [(a.choice, a.correct, a.revision) for a in attempts] == [(1, False, 1), (2, True, 1)]
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.CHANGE, what__startswith="Teach-back").count() == 2


@pytest.mark.parametrize("data", [{}, {"choice": 2}, {"question-{pk}-choice": 3}, {"question-{pk}-choice": "no"}])
def test_it_refuses_a_missing_or_unknown_choice_and_stores_nothing(alice_client, alice, squeeze, data):
    data = {key.format(pk=squeeze.pk): value for key, value in data.items()}
    response = alice_client.post(answer_url(squeeze), data, follow=True)
    assert response.status_code == 200
    assert not TeachBackAnswer.objects.exists()
    assert [str(m) for m in response.context["messages"]] in (
        ["Please choose an answer."],
        ["Select a valid choice. 3 is not one of the available choices."],
        ["Select a valid choice. no is not one of the available choices."],
    )


def test_it_answers_only_a_patient_and_only_for_a_published_articles_own_question(client, alice, derm, milia, squeeze):
    client.force_login(derm)
    assert answer(client, squeeze, 2).status_code == 404  # staff preview, never answer
    client.force_login(alice.user)
    other = ArticleFactory(slug="other", revision=1)
    assert client.post(f"/learn/other/questions/{squeeze.pk}/", {"choice": 2}).status_code == 404
    assert client.get(answer_url(squeeze)).status_code == 405
    Article.objects.filter(pk=milia.pk).update(status=Article.Status.IN_REVIEW)
    assert answer(client, squeeze, 2).status_code == 404
    assert not TeachBackAnswer.objects.exists() and other.questions.count() == 0


def test_it_needs_the_csrf_token(alice, squeeze):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    assert answer(client, squeeze, 2).status_code == 403
    assert not TeachBackAnswer.objects.exists()


def test_a_patient_never_sees_another_patients_answers(client, alice, bob, squeeze):
    squeeze.answer(patient=bob, choice=1, revision=1)
    squeeze.answer(patient=bob, choice=2, revision=1)
    client.force_login(alice.user)
    page = client.get("/learn/milia/").content.decode()
    assert "You answered every question right." not in page and "Not quite." not in page
    assert f'action="{answer_url(squeeze)}"' in page


def test_staff_previewing_see_the_questions_with_their_answers(derm_client, squeeze):
    page = derm_client.get("/learn/milia/").content.decode()
    assert "Questions at the end (staff preview)" in page
    assert "<strong>No, ask us to remove them ✓</strong>" in page and "closed cysts" in page
    assert f'action="{answer_url(squeeze)}"' not in page


def test_a_signed_in_user_who_is_neither_patient_nor_staff_never_sees_the_answers(client, squeeze):
    client.force_login(UserFactory(username="nobody"))
    response = client.get("/learn/milia/")
    assert response.status_code == 200 and "Milia" in response.content.decode()  # the article itself, yes
    assert "closed cysts" not in response.content.decode() and "✓" not in response.content.decode()


@pytest.fixture
def author(db):
    """Staff who may change articles but not publish them."""
    user = UserFactory(username="ada", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_article", "change_article"]))
    return user


def article_post(article, questions, **changes) -> dict:
    """The article change form's POST data with `questions` (dicts of TeachBackQuestion fields; "id" for existing)."""
    existing = sum(1 for q in questions if q.get("id"))
    data = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "body": article.body,
        "language": article.language,
        **management_form("questions", len(questions), initial=existing),
        **changes,
    }
    for i, question in enumerate(questions):
        data.update({f"questions-{i}-{key}": value for key, value in {"article": article.pk, **question}.items()})
    return data


QUESTION = {
    "position": 1,
    "question": "How long does glycolic acid dry?",
    "choice_1": "One minute",
    "choice_2": "Ten minutes",
    "choice_3": "",
    "choice_4": "",
    "correct_choice": 2,
    "explanation": "Ten minutes, then the moisturizer.",
}


def test_an_authors_change_to_the_questions_reopens_review(client, author, milia, squeeze):
    client.force_login(author)
    edited = {"id": squeeze.pk, **QUESTION, "question": "Should you ever squeeze milia?"}
    response = client.post(f"/admin/education/article/{milia.pk}/change/", article_post(milia, [edited]))
    assert response.status_code == 302
    milia.refresh_from_db()
    squeeze.refresh_from_db()
    assert squeeze.question == "Should you ever squeeze milia?"
    assert milia.status == Article.Status.IN_REVIEW and milia.revision == 1


def test_a_publishers_change_to_the_questions_is_a_new_revision(derm_client, milia):
    response = derm_client.post(f"/admin/education/article/{milia.pk}/change/", article_post(milia, [QUESTION]))
    assert response.status_code == 302
    milia.refresh_from_db()
    assert milia.status == Article.Status.PUBLISHED and milia.revision == 2
    assert milia.questions.get().explanation == "Ten minutes, then the moisturizer."


def test_saving_the_article_unchanged_keeps_its_revision(derm_client, milia, squeeze):
    unchanged = {"id": squeeze.pk, **{field: getattr(squeeze, field) for field in QUESTION}}
    response = derm_client.post(f"/admin/education/article/{milia.pk}/change/", article_post(milia, [unchanged]))
    assert response.status_code == 302
    milia.refresh_from_db()
    assert (milia.status, milia.revision) == (Article.Status.PUBLISHED, 1)


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"correct_choice": 3}, "The right answer must be one of the choices written."),
        ({"choice_4": "Never"}, "Fill the choices in order: choice 3 before choice 4."),
        ({"choice_2": ""}, "This field is required."),
    ],
)
def test_it_refuses_a_question_that_cannot_be_answered(derm_client, milia, fields, error):
    response = derm_client.post(
        f"/admin/education/article/{milia.pk}/change/", article_post(milia, [{**QUESTION, **fields}])
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not milia.questions.exists()


def test_it_takes_three_questions_at_most(derm_client, milia):
    four = [{**QUESTION, "position": n} for n in range(1, 5)]
    response = derm_client.post(f"/admin/education/article/{milia.pk}/change/", article_post(milia, four))
    assert response.status_code == 200
    assert not milia.questions.exists()


def test_the_front_desk_reads_the_questions_but_cannot_change_them(desk_client, milia, squeeze):
    page = desk_client.get(f"/admin/education/article/{milia.pk}/change/").content.decode()
    assert "Should you squeeze milia?" in page
    edited = {"id": squeeze.pk, **QUESTION}
    assert (
        desk_client.post(f"/admin/education/article/{milia.pk}/change/", article_post(milia, [edited])).status_code
        == 403
    )
    squeeze.refresh_from_db()
    assert squeeze.question == "Should you squeeze milia?"
