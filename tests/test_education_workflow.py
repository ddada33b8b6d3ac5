"""Review workflow: only the publish permission publishes or archives; every save keeps a revision."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from education.models import Article, add_months
from tests.admin_forms import management_form
from tests.factories import ArticleFactory, UserFactory

CHANGELIST = "/admin/education/article/"
IN_REVIEW = Article.Status.IN_REVIEW


@pytest.fixture
def author(db):
    """Staff who may write and change articles but not publish them."""
    user = UserFactory(username="ada", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_article", "change_article", "add_article"])
    )
    return user


def run_action(client, action, article):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [article.pk]}, follow=True)


@pytest.mark.django_db
def test_it_publishes_with_reviewer_date_and_next_review(derm):
    article = ArticleFactory(status=IN_REVIEW)
    article.publish(by=derm, today=dt.date(2026, 3, 3))
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert article.medical_reviewer == derm
    assert article.reviewed_on == dt.date(2026, 3, 3)
    assert article.next_review_due == dt.date(2027, 3, 3)
    assert article.published_at is not None


def test_it_clamps_the_next_review_to_the_month_end():
    assert add_months(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


@pytest.mark.django_db
def test_it_refuses_publishing_by_the_front_desk_and_authors(desk, author):
    article = ArticleFactory(status=IN_REVIEW)
    for user in (desk, author):
        with pytest.raises(PermissionDenied):
            article.publish(by=user)
        with pytest.raises(PermissionDenied):
            article.archive(by=user)
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW


@pytest.mark.django_db
def test_it_publishes_through_the_admin_action(derm_client, derm):
    article = ArticleFactory(status=IN_REVIEW)
    response = run_action(derm_client, "publish", article)
    assert response.status_code == 200
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and article.medical_reviewer == derm


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["desk", "author"])
def test_it_ignores_the_publish_action_from_users_without_the_permission(client, desk, author, who):
    client.force_login({"desk": desk, "author": author}[who])
    article = ArticleFactory(status=IN_REVIEW)
    run_action(client, "publish", article)
    run_action(client, "archive", article)
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW
    assert article.medical_reviewer is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "action", "before", "after"),
    [
        ("author", "submit_for_review", Article.Status.DRAFT, Article.Status.IN_REVIEW),  # authors submit drafts
        ("derm", "archive", Article.Status.PUBLISHED, Article.Status.ARCHIVED),
    ],
)
def test_it_moves_articles_on_with_the_admin_actions(client, request, who, action, before, after):
    client.force_login(request.getfixturevalue(who))
    article = ArticleFactory(status=before)
    run_action(client, action, article)
    article.refresh_from_db()
    assert article.status == after


@pytest.mark.django_db
def test_it_only_submits_drafts(derm):
    article = ArticleFactory()
    with pytest.raises(ValidationError):
        article.submit_for_review(by=derm)


@pytest.mark.django_db
def test_it_lets_the_front_desk_read_but_not_change_articles(desk_client):
    article = ArticleFactory(title="Milia basics", status=IN_REVIEW)
    assert desk_client.get(CHANGELIST).status_code == 200
    change_url = f"{CHANGELIST}{article.pk}/change/"
    assert desk_client.get(change_url).status_code == 200
    response = desk_client.post(change_url, {"title": "Hacked", "slug": article.slug, "body": "x", "language": "en"})
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.title == "Milia basics"


@pytest.mark.django_db
def test_it_keeps_a_revision_on_each_save(derm):
    article = ArticleFactory(body="Milia are small cysts.", status=Article.Status.DRAFT)
    article.body = "Milia are tiny keratin cysts."
    article.save()
    article.submit_for_review(by=derm)
    article.publish(by=derm)
    history = article.history.order_by("history_date")
    assert history.count() == 4
    assert history.first().body == "Milia are small cysts."
    assert [h.status for h in history] == ["draft", "draft", "in_review", "published"]


@pytest.mark.django_db
def test_it_restores_an_old_version_in_the_admin_without_changing_its_review_state(derm_client, derm):
    article = ArticleFactory(body="Milia are small cysts.", status=Article.Status.DRAFT)
    first = article.history.get()
    article.body = "A worse second version."
    article.save()
    article.publish(by=derm)

    url = f"{CHANGELIST}{article.pk}/history/{first.history_id}/"
    assert derm_client.get(url).status_code == 200
    response = derm_client.post(
        url, {"title": first.title, "slug": first.slug, "summary": "", "body": first.body, "language": "en"}
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.body == "Milia are small cysts."
    assert "small cysts" in article.body_html
    assert article.status == Article.Status.PUBLISHED  # the restore brings back text, not an old status
    assert article.history.count() == 4


@pytest.mark.django_db
def test_it_refuses_a_restore_from_view_only_staff(desk_client):
    article = ArticleFactory(status=IN_REVIEW)
    first = article.history.get()
    article.body = "Second version."
    article.save()
    url = f"{CHANGELIST}{article.pk}/history/{first.history_id}/"
    response = desk_client.post(url, {"title": first.title, "slug": first.slug, "body": first.body, "language": "en"})
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.body == "Second version."


@pytest.mark.django_db
def test_it_sends_a_published_article_back_to_review_when_an_author_edits_it(client, author, derm):
    article = ArticleFactory(status=IN_REVIEW)
    article.publish(by=derm)
    client.force_login(author)
    response = client.post(
        f"{CHANGELIST}{article.pk}/change/",
        {
            "title": article.title,
            "slug": article.slug,
            "summary": "",
            "body": "Unreviewed claim.",
            "language": "en",
            **management_form("questions", 0),
        },
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.body == "Unreviewed claim."
    assert article.status == Article.Status.IN_REVIEW


@pytest.mark.django_db
def test_it_filters_articles_whose_review_is_overdue(derm_client):
    ArticleFactory(title="Fresh", next_review_due=dt.date(2999, 1, 1))
    ArticleFactory(title="Stale", next_review_due=dt.date(2000, 1, 1))
    response = derm_client.get(CHANGELIST, {"review": "overdue"})
    titles = [a.title for a in response.context["cl"].result_list]
    assert titles == ["Stale"]


@pytest.mark.django_db
def test_it_flags_articles_above_grade_eight_in_the_admin(derm_client):
    hard = ArticleFactory(title="Hard", status=IN_REVIEW)
    hard.body = (
        "Keratinaceous microcysts demonstrate considerable therapeutic recalcitrance notwithstanding "
        "conventional pharmacological interventions administered continuously."
    )
    hard.save()
    response = derm_client.get(CHANGELIST)
    assert "above grade 8" in response.content.decode()
    response = derm_client.get(CHANGELIST, {"reading": "hard"})
    assert [a.title for a in response.context["cl"].result_list] == ["Hard"]
    assert derm_client.get(f"{CHANGELIST}{hard.pk}/change/").status_code == 200
