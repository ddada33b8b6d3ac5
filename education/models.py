import calendar
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from simple_history.models import HistoricalRecords

from portal.models import Patient

from . import search
from .rendering import flesch_kincaid_grade, render_markdown, szigriszt_pazos

# Patient materials aim for grades 6 to 8 (AMA/NIH health-literacy advice).
TARGET_READING_GRADE = Decimal("8.0")
# Spanish text is measured on the INFLESZ scale (Szigriszt-Pazos, 0-100, higher is easier): 55 or above is
# "normal" or easier, the band Spanish health-literacy work asks of patient leaflets (Barrio-Cantalejo 2008),
# about what grade 8 is in English.
TARGET_SPANISH_READING_EASE = Decimal("55.0")
PUBLISH_PERMISSION = "education.publish_article"


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole months, clamped to the month's last day (29 Feb + 12 months → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


class Condition(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # A column per language, as for a step's text: a condition's name is short. Empty: the English name.
    name_es = models.CharField("name in Spanish", max_length=100, blank=True)
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


# Where an article fits in a patient's care, for the article page ("Bioclear Serum: Every other evening").
# Registered like the sources above: functions (patient, local date, article) -> [(what, when)], in the
# active language (routines: the steps of the patient's plan that the article's topic explains).
ARTICLE_USES: list[Callable[[Patient, dt.date, "Article"], list[tuple[str, str]]]] = []


def register_article_uses(source: Callable[[Patient, dt.date, "Article"], list[tuple[str, str]]]) -> None:
    if source not in ARTICLE_USES:
        ARTICLE_USES.append(source)


def article_uses(patient: Patient, day: dt.date, article: "Article") -> list[tuple[str, str]]:
    """[(what, when)]: where `article` (any version of its topic) fits in the patient's care on local date `day`."""
    return [use for source in ARTICLE_USES for use in source(patient, day, article)]


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

        Names are in the active language (the Spanish name where one is written).

        An article with two conditions appears in both groups. Two queries however many
        articles there are (a plain join on the through table: cheaper than prefetching).
        """
        articles = {article.pk: article for article in self}
        through = Article.conditions.through.objects.filter(article__in=self.values("pk"))
        spanish = get_language() == "es"
        names: dict[int, list[str]] = {}
        for article_id, name, name_es in through.values_list("article_id", "condition__name", "condition__name_es"):
            names.setdefault(article_id, []).append((spanish and name_es) or name)
        groups: dict[str, list[Article]] = {}
        for pk, article in articles.items():
            for name in names.get(pk, [None]):
                groups.setdefault(name, []).append(article)
        named = sorted((name, items) for name, items in groups.items() if name is not None)
        return named + ([(gettext("Other topics"), groups[None])] if None in groups else [])

    def in_language(self, language: str):
        """Each topic once, in `language` where it has a published version there, else in its original's language.

        A topic is an original article and its translations. Kept: originals in `language`,
        other originals with no published translation into `language` (the fallback), and
        translations into `language`. Call on published articles (a draft translation must
        not hide its original): `Article.objects.published().in_language("es")`.
        """
        translated = Article.objects.published().filter(translation_of=OuterRef("pk"), language=language)
        return self.filter(Q(language=language) | (Q(translation_of__isnull=True) & ~Exists(translated)))

    def for_patient(self, patient: Patient, day: dt.date, language: str | None = None):
        """Published articles the clinic attached to the patient's care on local date `day` (all registered sources).

        Plans link originals (or, now and then, a translation); each topic comes once, in `language`
        (default: the patient's) where a published version exists, else in the original's language.
        """
        attached = Q(pk__in=[])  # none, unless a source adds some
        for source in PATIENT_ARTICLE_SOURCES:
            attached |= _topics_of(source(patient, day))
        return self.published().filter(attached).in_language(language or patient.preferred_language)

    def versions_of(self, ids, language: str):
        """The published articles of the topics of `ids` (ids or a queryset of them), each once, in `language`
        where a published version exists, else in the original's language (as `for_patient`). One query."""
        return self.published().filter(_topics_of(ids)).in_language(language)


def _topics_of(ids) -> Q:
    """Every version of the articles `ids`: themselves, their originals and the originals' translations."""
    originals = Article.objects.filter(pk__in=ids, translation_of__isnull=False).values("translation_of")
    return Q(pk__in=ids) | Q(translation_of__in=ids) | Q(pk__in=originals) | Q(translation_of__in=originals)


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
    # A translation is its own row, with its own medical review and history, linked to the original.
    translation_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="translations",
        limit_choices_to={"translation_of__isnull": True},
        verbose_name="translation of",
        help_text="For a translation: the original article it translates. Patients reading this article's "
        "language see this version once it is published, and the original until then.",
    )
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
    # Spanish articles: INFLESZ score (Szigriszt-Pazos, 0-100, higher is easier) instead of a grade.
    reading_ease = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True)
    # Counts publications: what a patient read is this number (a new one shows staff "updated since read").
    revision = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # Every save keeps a full copy: the admin shows the history and can restore any version.
    history = HistoricalRecords(excluded_fields=["body_html", "updated_at"])

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        permissions = [("publish_article", "Can publish and archive articles")]
        indexes = search.search_indexes()  # full-text, one per language (PostgreSQL only)
        constraints = [
            # Partial (originals have no translation_of anyway), which also spares SQLite a table rebuild:
            # that would try to recreate the PostgreSQL-only search indexes.
            models.UniqueConstraint(
                fields=["translation_of", "language"],
                condition=Q(translation_of__isnull=False),
                name="article_one_translation_per_language",
                violation_error_message="This article already has a translation into that language.",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # Render once here, not on every page view; the level is measured on what patients read,
        # with the formula of the article's language.
        self.body_html = render_markdown(self.body)
        self.reading_grade = self.reading_ease = None
        if self.language == "es":
            ease = szigriszt_pazos(self.body_html)
            self.reading_ease = None if ease is None else Decimal(str(ease))
        else:
            grade = flesch_kincaid_grade(self.body_html)
            self.reading_grade = None if grade is None else Decimal(str(grade))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"body", "language"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "body_html", "reading_grade", "reading_ease"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("education:article-detail", args=[self.slug])

    def clean(self):
        super().clean()
        original = self.translation_of
        if original is None:
            return
        if original.pk == self.pk or original.translation_of_id is not None:
            raise ValidationError({"translation_of": "Choose the original article, not a translation."})
        if original.language == self.language:
            raise ValidationError({"language": "A translation is in another language than its original."})
        if self.pk and self.translations.exists():
            raise ValidationError({"translation_of": "This article has translations of its own, so it is an original."})

    def get_handout_url(self) -> str:
        return reverse("education:article-handout", args=[self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def above_target_grade(self) -> bool:
        """Harder to read than patient materials should be (grade above 8, or INFLESZ below 55 for Spanish)."""
        if self.reading_ease is not None:
            return self.reading_ease < TARGET_SPANISH_READING_EASE
        return self.reading_grade is not None and self.reading_grade > TARGET_READING_GRADE

    def version_in(self, language: str) -> "Article":
        """The published version of this article's topic in `language` (the original or a translation), else self."""
        if self.language == language:
            return self
        original = self.translation_of or self
        if original.pk != self.pk and original.language == language and original.is_published:
            return original
        return original.translations.published().filter(language=language).exclude(pk=self.pk).first() or self

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
        """Publish as medically reviewed by `by` today; the next review falls due a set number of months later.

        Each publication is a new revision: patients who read an earlier one see it as updated, and its
        teach-back questions are asked again.
        """
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
        self.revision += 1
        self.save()

    def archive(self, *, by) -> None:
        if not by.has_perm(PUBLISH_PERMISSION):
            raise PermissionDenied("Only a medical reviewer may archive articles.")
        if self.status == self.Status.ARCHIVED:
            raise ValidationError(f"“{self}” is already archived.")
        self.status = self.Status.ARCHIVED
        self.save()


class TeachBackQuestion(models.Model):
    """A short question at the end of an article: part of its text, reviewed and published with it."""

    MAX_PER_ARTICLE = 3

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    question = models.CharField(max_length=200)
    choice_1 = models.CharField(max_length=120)
    choice_2 = models.CharField(max_length=120)
    choice_3 = models.CharField(max_length=120, blank=True)
    choice_4 = models.CharField(max_length=120, blank=True)
    correct_choice = models.PositiveSmallIntegerField(choices=[(n, f"Choice {n}") for n in range(1, 5)], default=1)
    explanation = models.CharField(
        max_length=250, help_text="One line, shown after a wrong answer: why the right one is right."
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(correct_choice__gte=1, correct_choice__lte=4), name="teach_back_correct_choice_1_to_4"
            )
        ]

    def __str__(self) -> str:
        return self.question

    def choices(self) -> list[tuple[int, str]]:
        """[(number, text)] of the written choices, in order (2 to 4)."""
        texts = (self.choice_1, self.choice_2, self.choice_3, self.choice_4)
        return [(number, text) for number, text in enumerate(texts, start=1) if text]

    @property
    def right_answer(self) -> str:
        return dict(self.choices()).get(self.correct_choice, "")

    def answer(self, *, patient: Patient, choice: int, revision: int) -> "TeachBackAnswer":
        """Store the patient's attempt (every attempt is kept) and return it; `correct` says how it went."""
        return TeachBackAnswer.objects.create(
            patient=patient, question=self, revision=revision, choice=choice, correct=choice == self.correct_choice
        )

    def clean(self):
        super().clean()
        if self.choice_4 and not self.choice_3:
            raise ValidationError({"choice_3": "Fill the choices in order: choice 3 before choice 4."})
        if self.correct_choice not in dict(self.choices()):
            raise ValidationError({"correct_choice": "The right answer must be one of the choices written."})


class ArticleReadQuerySet(models.QuerySet):
    def record(self, *, patient: Patient, article: Article, now: dt.datetime) -> None:
        """Note that `patient` opened the published `article` at `now` (one row per revision read).

        One INSERT … ON CONFLICT DO UPDATE: two tabs opening the article at once cannot
        write two rows (the unique constraint decides) nor fail; the first read time stays.
        """
        self.bulk_create(
            [ArticleRead(patient=patient, article=article, revision=article.revision, first_at=now, last_at=now)],
            update_conflicts=True,
            unique_fields=["patient", "article", "revision"],
            update_fields=["last_at"],
        )


class ArticleRead(models.Model):
    """A patient opened a published revision of an article: first and last time. Staff only.

    Bookkeeping like AccessLog, written by the article page's GET.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="article_reads")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reads")
    revision = models.PositiveIntegerField()
    first_at = models.DateTimeField("first read")
    last_at = models.DateTimeField("last read")

    objects = ArticleReadQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "article", "revision"], name="article_read_once_per_revision")
        ]

    def __str__(self) -> str:
        return f"{self.patient} read {self.article} (revision {self.revision})"


class TeachBackAnswer(models.Model):
    """One attempt at a teach-back question: every attempt is kept, right or wrong (staff see how it went)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="teach_back_answers")
    question = models.ForeignKey(TeachBackQuestion, on_delete=models.CASCADE, related_name="answers")
    # The article's revision the question was asked in: a new revision asks again.
    revision = models.PositiveIntegerField()
    choice = models.PositiveSmallIntegerField()
    correct = models.BooleanField()
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["patient", "question", "revision"], name="teach_back_answer_lookup")]

    def __str__(self) -> str:
        return f"{self.patient}: {self.question} ({'right' if self.correct else 'wrong'})"
