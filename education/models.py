import calendar
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from portal.models import Patient

from . import search
from .rendering import flesch_kincaid_grade, render_markdown

# Patient materials aim for grades 6 to 8 (AMA/NIH health-literacy advice).
TARGET_READING_GRADE = Decimal("8.0")
PUBLISH_PERMISSION = "education.publish_article"


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole months, clamped to the month's last day (29 Feb + 12 months → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


class Condition(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    icd10_code = models.CharField("ICD-10 code", max_length=10, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Where a patient's own articles come from (/learn/ lists them first). The apps built on education
# register them from their AppConfig.ready(), so education never imports them: functions
# (patient, local date) -> a queryset of article ids (routines: the articles of the plans running that day).
PATIENT_ARTICLE_SOURCES: list[Callable[[Patient, dt.date], models.QuerySet]] = []


def register_patient_articles(source: Callable[[Patient, dt.date], models.QuerySet]) -> None:
    if source not in PATIENT_ARTICLE_SOURCES:
        PATIENT_ARTICLE_SOURCES.append(source)


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Article.Status.PUBLISHED)

    def review_overdue(self, today: dt.date):
        """Published articles whose medical review is due before `today` (or was never scheduled)."""
        return self.published().filter(Q(next_review_due__lt=today) | Q(next_review_due__isnull=True))

    def search(self, query: str):
        """Articles whose text (in their own language) or a condition's name matches `query`: see `search.matching`."""
        return search.matching(self, query)

    def grouped_by_condition(self) -> list[tuple[str, list["Article"]]]:
        """[(condition name, articles)] in name order, articles without a condition last under "Other topics".

        An article with two conditions appears in both groups. Two queries however many
        articles there are (a plain join on the through table: cheaper than prefetching).
        """
        articles = {article.pk: article for article in self}
        through = Article.conditions.through.objects.filter(article__in=self.values("pk"))
        names: dict[int, list[str]] = {}
        for article_id, name in through.order_by("condition__name").values_list("article_id", "condition__name"):
            names.setdefault(article_id, []).append(name)
        groups: dict[str, list[Article]] = {}
        for pk, article in articles.items():
            for name in names.get(pk, [None]):
                groups.setdefault(name, []).append(article)
        named = sorted((name, items) for name, items in groups.items() if name is not None)
        return named + ([("Other topics", groups[None])] if None in groups else [])

    def for_patient(self, patient: Patient, day: dt.date):
        """Published articles the clinic attached to the patient's care on local date `day` (all registered sources)."""
        attached = Q(pk__in=[])  # none, unless a source adds some
        for source in PATIENT_ARTICLE_SOURCES:
            attached |= Q(pk__in=source(patient, day))
        return self.published().filter(attached)


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.TextField(max_length=500, blank=True)
    body = models.TextField(help_text="Markdown. Raw HTML is removed when the article is rendered.")
    body_html = models.TextField(editable=False, blank=True)
    conditions = models.ManyToManyField(Condition, blank=True, related_name="articles")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="authored_articles"
    )
    medical_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviewed_articles"
    )
    reviewed_on = models.DateField(null=True, blank=True)
    next_review_due = models.DateField(null=True, blank=True)
    reading_grade = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Every save keeps a full copy: the admin shows the history and can restore any version.
    history = HistoricalRecords(excluded_fields=["body_html", "updated_at"])

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        permissions = [("publish_article", "Can publish and archive articles")]
        indexes = search.search_indexes()  # full-text, one per language (PostgreSQL only)

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # Render once here, not on every page view; the grade is measured on what patients read.
        self.body_html = render_markdown(self.body)
        grade = flesch_kincaid_grade(self.body_html)
        self.reading_grade = None if grade is None else Decimal(str(grade))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "body_html", "reading_grade"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("education:article-detail", args=[self.slug])

    def get_handout_url(self) -> str:
        return reverse("education:article-handout", args=[self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def above_target_grade(self) -> bool:
        return self.reading_grade is not None and self.reading_grade > TARGET_READING_GRADE

    def review_overdue_on(self, today: dt.date) -> bool:
        return self.is_published and (self.next_review_due is None or self.next_review_due < today)

    # Review workflow: draft → in_review → published → archived. Each step saves
    # (so the history shows who moved it and when) and returns nothing.

    def submit_for_review(self, *, by) -> None:
        if self.status not in (self.Status.DRAFT, self.Status.ARCHIVED):
            raise ValidationError(f"“{self}” is {self.get_status_display().lower()}; only drafts go to review.")
        if not by.has_perm("education.change_article"):
            raise PermissionDenied("You may not change articles.")
        self.status = self.Status.IN_REVIEW
        self.save()

    def publish(self, *, by, today: dt.date | None = None) -> None:
        """Publish as medically reviewed by `by` today; the next review falls due a set number of months later."""
        if not by.has_perm(PUBLISH_PERMISSION):
            raise PermissionDenied("Only a medical reviewer may publish articles.")
        if self.status == self.Status.PUBLISHED:
            raise ValidationError(f"“{self}” is already published.")
        today = today or timezone.localdate()
        self.status = self.Status.PUBLISHED
        self.medical_reviewer = by
        self.reviewed_on = today
        self.next_review_due = add_months(today, settings.ARTICLE_REVIEW_INTERVAL_MONTHS)
        self.published_at = self.published_at or timezone.now()
        self.save()

    def archive(self, *, by) -> None:
        if not by.has_perm(PUBLISH_PERMISSION):
            raise PermissionDenied("Only a medical reviewer may archive articles.")
        if self.status == self.Status.ARCHIVED:
            raise ValidationError(f"“{self}” is already archived.")
        self.status = self.Status.ARCHIVED
        self.save()
