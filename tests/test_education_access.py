"""Who may read which article: patients see published ones only; staff handouts need the view permission."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from education.models import Article
from tests.factories import ArticleFactory, UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Article.Status.DRAFT, Article.Status.IN_REVIEW, Article.Status.ARCHIVED])
def test_it_hides_unpublished_articles_from_patients(alice_client, status):
    article = ArticleFactory(slug="hidden", status=status)
    assert alice_client.get(article.get_absolute_url()).status_code == 404
    assert alice_client.get(article.get_handout_url()).status_code == 404
    assert b"Hidden" not in alice_client.get("/learn/").content


@pytest.mark.django_db
def test_it_shows_published_articles_to_patients(alice_client):
    article = ArticleFactory(slug="sunscreen")
    response = alice_client.get("/learn/sunscreen/")
    assert response.status_code == 200
    assert b"Sunscreen" in response.content
    assert article.get_handout_url().encode() in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/learn/", "/learn/sunscreen/", "/learn/sunscreen/handout.pdf", "/handouts/articles/sunscreen.pdf"]
)
def test_it_sends_anonymous_visitors_to_the_login_page(client, path):
    ArticleFactory(slug="sunscreen")
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_refuses_the_staff_handout_to_users_without_the_view_permission(alice_client):
    ArticleFactory(slug="sunscreen")
    assert alice_client.get("/handouts/articles/sunscreen.pdf").status_code == 403


@pytest.mark.django_db
def test_it_refuses_the_staff_handout_to_staff_without_the_view_permission(client):
    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    ArticleFactory(slug="sunscreen")
    assert client.get("/handouts/articles/sunscreen.pdf").status_code == 403

    clerk.user_permissions.add(Permission.objects.get(codename="view_article"))
    client.force_login(clerk)
    assert client.get("/handouts/articles/sunscreen.pdf").status_code == 200


@pytest.mark.django_db
def test_it_lets_the_front_desk_print_any_article(desk_client):
    ArticleFactory(slug="sunscreen")
    ArticleFactory(slug="draft-one", status=Article.Status.DRAFT)
    assert desk_client.get("/handouts/articles/sunscreen.pdf").status_code == 200
    assert desk_client.get("/handouts/articles/draft-one.pdf").status_code == 200
    assert desk_client.get("/handouts/articles/missing.pdf").status_code == 404


@pytest.mark.django_db
def test_it_lets_staff_preview_a_draft_marked_as_hidden(derm_client):
    ArticleFactory(slug="draft-one", status=Article.Status.DRAFT)
    response = derm_client.get("/learn/draft-one/")
    assert response.status_code == 200
    assert b"patients cannot see this article" in response.content


@pytest.mark.django_db
def test_it_puts_no_inline_script_or_style_on_article_pages(alice_client):
    ArticleFactory(slug="sunscreen", summary="Why SPF matters")
    for path in ("/learn/", "/learn/sunscreen/"):
        page = alice_client.get(path).content.decode().lower()
        assert "style=" not in page and "<style" not in page and "onclick" not in page
        assert "<script>" not in page  # only <script src=... defer>


@pytest.mark.django_db
def test_it_shows_the_review_date_and_print_and_download_buttons(alice_client, derm, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    ArticleFactory(slug="sunscreen", medical_reviewer=derm, reviewed_on=dt.date(2026, 3, 3))
    page = alice_client.get("/learn/sunscreen/").content.decode()
    assert "Medically reviewed by Dana on 3 March 2026" in page
    assert '<a class="btn btn-outline-primary js-print" href="/learn/sunscreen/handout.pdf">Print</a>' in page
    assert 'href="/learn/sunscreen/handout.pdf" download>Download PDF</a>' in page
    assert "css/article.css" in page and "education/print.js" in page
    assert "https://portal.example.org/learn/sunscreen/</p>" in page  # the printed page's footer
