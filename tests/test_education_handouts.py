"""PDF handouts: one template for patients and staff, readable, safe, Letter or A4."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from education.models import Article
from tests.factories import ArticleFactory

GLYCOLIC_BODY = "## Every other evening\n\nPut on a thin layer. Keep it away from your eyes."


def pdf_text(response) -> tuple[PdfReader, str]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.django_db
def test_it_gives_patients_a_pdf_handout_with_title_review_and_clinic(alice_client, derm, settings):
    ArticleFactory(
        slug="glycolic-acid",
        title="Using glycolic acid",
        body=GLYCOLIC_BODY,
        medical_reviewer=derm,
        reviewed_on=dt.date(2026, 3, 3),
    )
    reader, text = pdf_text(alice_client.get("/learn/glycolic-acid/handout.pdf"))
    assert "Using glycolic acid" in text
    assert "Keep it away from your eyes" in text
    assert "Medically reviewed by Dana on 3 March 2026" in text
    assert settings.CLINIC_NAME in text and settings.CLINIC_PHONE in text
    assert "/learn/glycolic-acid/" in text


@pytest.mark.django_db
def test_it_gives_staff_the_same_handout(desk_client):
    ArticleFactory(slug="glycolic-acid", title="Using glycolic acid")
    _, text = pdf_text(desk_client.get("/handouts/articles/glycolic-acid.pdf"))
    assert "Using glycolic acid" in text


@pytest.mark.django_db
def test_it_stamps_unpublished_handouts_for_staff(desk_client):
    ArticleFactory(slug="glycolic-acid", status=Article.Status.DRAFT)
    _, text = pdf_text(desk_client.get("/handouts/articles/glycolic-acid.pdf"))
    assert "DRAFT: not for patients" in text


@pytest.mark.django_db
@pytest.mark.parametrize(("size", "width_pt"), [("Letter", 612), ("A4", 595)])
def test_it_uses_the_configured_page_size(alice_client, settings, size, width_pt):
    settings.HANDOUT_PAGE_SIZE = size
    ArticleFactory(slug="glycolic-acid", body=GLYCOLIC_BODY)
    reader, _ = pdf_text(alice_client.get("/learn/glycolic-acid/handout.pdf"))
    assert round(float(reader.pages[0].mediabox.width)) == width_pt


@pytest.mark.django_db
def test_it_never_fetches_local_files_or_the_network_for_article_images(alice_client, monkeypatch):
    from portal import handouts

    fetched = []
    original = handouts.LocalOnlyFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(handouts.LocalOnlyFetcher, "fetch", spy)
    ArticleFactory(
        slug="glycolic-acid",
        body="![a](/static/../../../../etc/passwd) ![b](file:///etc/passwd) ![c](https://example.org/x.png)",
    )
    _, text = pdf_text(alice_client.get("/learn/glycolic-acid/handout.pdf"))
    assert "root:" not in text
    assert all(url.startswith(handouts.INTERNAL_BASE) for url in fetched)
