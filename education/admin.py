from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from portal.admin import PatientAdmin as BasePatientAdmin
from portal.history import HistoryAdmin
from portal.models import Patient

from .models import (
    PUBLISH_PERMISSION,
    TARGET_READING_GRADE,
    TARGET_SPANISH_READING_EASE,
    Article,
    Condition,
    TeachBackQuestion,
)
from .reading import reading_status

# Set only by the review actions, never typed in the form (nor brought back by a history restore).
WORKFLOW_FIELDS = ("status", "medical_reviewer", "reviewed_on", "next_review_due", "published_at", "revision")
# What patients read. The teach-back questions (an inline) count as text too: see `ArticleAdmin.save_related`.
TEXT_FIELDS = ("title", "summary", "body")


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["name", "name_es", "icd10_code"]
    search_fields = ["name", "name_es", "icd10_code"]
    prepopulated_fields = {"slug": ["name"]}


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = "medical review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", "Review overdue")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.review_overdue(timezone.localdate())
        return queryset


class ReadingLevelFilter(admin.SimpleListFilter):
    title = "reading level"
    parameter_name = "reading"

    def lookups(self, request, model_admin):
        target, ease = f"{TARGET_READING_GRADE:.0f}", f"{TARGET_SPANISH_READING_EASE:.0f}"
        return [("hard", f"Above grade {target} (Spanish: INFLESZ below {ease})"), ("ok", "Within the target")]

    def queryset(self, request, queryset):
        # English text has a grade (lower is easier), Spanish an INFLESZ score (higher is easier).
        if self.value() == "hard":
            return queryset.filter(
                Q(reading_grade__gt=TARGET_READING_GRADE) | Q(reading_ease__lt=TARGET_SPANISH_READING_EASE)
            )
        if self.value() == "ok":
            return queryset.filter(
                Q(reading_grade__lte=TARGET_READING_GRADE) | Q(reading_ease__gte=TARGET_SPANISH_READING_EASE)
            )
        return queryset


def _spanish_version(field: str) -> Subquery:
    """`field` of the article's Spanish translation (at most one: a translation is unique per language)."""
    return Subquery(Article.objects.filter(translation_of=OuterRef("pk"), language="es").values(field)[:1])


class SpanishTranslationFilter(admin.SimpleListFilter):
    """Published English articles by the state of their Spanish version: what Spanish readers still get in English."""

    title = "Spanish translation (of published English articles)"
    parameter_name = "spanish"
    MISSING, IN_REVIEW, PUBLISHED = "missing", "in_review", "published"

    def lookups(self, request, model_admin):
        return [
            (self.MISSING, "Missing (none yet, or only a draft)"),
            (self.IN_REVIEW, "In review"),
            (self.PUBLISHED, "Published"),
        ]

    def queryset(self, request, queryset):
        if self.value() not in (self.MISSING, self.IN_REVIEW, self.PUBLISHED):
            return queryset
        originals = queryset.published().filter(language="en", translation_of__isnull=True)
        spanish = Article.objects.filter(translation_of=OuterRef("pk"), language="es")
        if self.value() == self.MISSING:
            reviewed = (Article.Status.IN_REVIEW, Article.Status.PUBLISHED)
            return originals.exclude(pk__in=spanish.filter(status__in=reviewed).values("translation_of"))
        return originals.filter(pk__in=spanish.filter(status=self.value()).values("translation_of"))


class TeachBackQuestionInline(admin.StackedInline):
    """Up to three questions at the end of the article, reviewed with its text."""

    model = TeachBackQuestion
    extra = 0
    max_num = TeachBackQuestion.MAX_PER_ARTICLE
    fields = [
        "position",
        "question",
        ("choice_1", "choice_2"),
        ("choice_3", "choice_4"),
        "correct_choice",
        "explanation",
    ]
    verbose_name = "teach-back question"
    verbose_name_plural = "Teach-back questions (up to three; part of the text: a change re-opens medical review)"

    def get_formset(self, request, obj=None, **kwargs):
        return super().get_formset(request, obj, validate_max=True, **kwargs)  # a fourth is refused, not ignored

    # Part of the article's text, so whoever may change (or view) the article may change (or view) them.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("education.view_article") or self.has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("education.change_article")

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


@admin.register(Article)
class ArticleAdmin(HistoryAdmin):
    list_display = ["title", "status", "grade", "language", "spanish", "reviewed_on", "next_review_due", "overdue"]
    list_filter = [
        "status",
        ReviewOverdueFilter,
        ReadingLevelFilter,
        SpanishTranslationFilter,
        "conditions",
        "language",
    ]
    search_fields = ["title", "summary", "conditions__name"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["conditions"]
    autocomplete_fields = ["translation_of"]
    readonly_fields = ["grade", *WORKFLOW_FIELDS]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "conditions", "language", "translation_of", "author"]}),
        ("Reading level", {"fields": ["grade"]}),
        ("Medical review", {"fields": list(WORKFLOW_FIELDS)}),
    ]
    actions = ["submit_for_review", "publish", "archive"]
    inlines = [TeachBackQuestionInline]
    history_list_display = ["status", "revision", "reading_grade", "reading_ease"]

    def get_queryset(self, request):
        # The Spanish column in the same query as the list (no query a row).
        return (
            super()
            .get_queryset(request)
            .annotate(spanish_pk=_spanish_version("pk"), spanish_status=_spanish_version("status"))
        )

    @admin.display(description="Reading grade", ordering="reading_grade")
    def grade(self, obj):
        if obj.reading_ease is not None:  # Spanish: INFLESZ, higher is easier
            ease = int(TARGET_SPANISH_READING_EASE)
            if obj.above_target_grade:
                return format_html(
                    '<strong class="errornote">INFLESZ {} ⚠ below {} (“normal”)</strong>', obj.reading_ease, ease
                )
            return f"INFLESZ {obj.reading_ease} (target {ease} or above)"
        if obj.reading_grade is None:
            return "–"
        if obj.above_target_grade:
            return format_html(
                '<strong class="errornote">{} ⚠ above grade {}</strong>', obj.reading_grade, int(TARGET_READING_GRADE)
            )
        return f"{obj.reading_grade}"

    @admin.display(description="Spanish")
    def spanish(self, obj):
        """An English original's Spanish version (its review status, or a link to start one)."""
        if obj.language != "en" or obj.translation_of_id is not None:
            return "–"
        status = getattr(obj, "spanish_status", None)
        if status is None:
            add = f"{reverse('admin:education_article_add')}?{urlencode({'translation_of': obj.pk, 'language': 'es'})}"
            if obj.is_published:
                return format_html('<strong class="errornote">Missing</strong> · <a href="{}">translate</a>', add)
            return format_html('<a href="{}">translate</a>', add)
        change = reverse("admin:education_article_change", args=[obj.spanish_pk])
        label = Article.Status(status).label
        if obj.is_published and status != Article.Status.PUBLISHED:
            return format_html('<a href="{}"><strong class="errornote">{}</strong></a>', change, label)
        return format_html('<a href="{}">{}</a>', change, label)

    @admin.display(description="Review overdue", boolean=True)
    def overdue(self, obj):
        return obj.review_overdue_on(timezone.localdate()) if obj.is_published else None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "author":
            # Authors are staff (or wrote an article once): a handful of names, not every patient's login.
            authors = Q(is_staff=True) | Q(pk__in=Article.objects.values("author_id"))
            kwargs["queryset"] = get_user_model().objects.filter(authors)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_publish_permission(self, request):
        return request.user.has_perm(PUBLISH_PERMISSION)

    def save_model(self, request, obj, form, change):
        if not change and obj.author_id is None:
            obj.author = request.user
        if change:
            current = Article.objects.get(pk=obj.pk)
            for field in WORKFLOW_FIELDS:
                setattr(obj, field, getattr(current, field))
            text_changed = any(getattr(obj, field) != getattr(current, field) for field in TEXT_FIELDS)
            if obj.is_published and text_changed:
                self._published_text_changed(request, obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        article = form.instance
        if article.translation_of_id is not None and not article.conditions.exists():
            # A new translation files under its original's conditions unless the form chose others.
            article.conditions.set(article.translation_of.conditions.all())
        questions_changed = any(formset.has_changed() for formset in formsets if formset.model is TeachBackQuestion)
        text_changed = set(TEXT_FIELDS) & set(form.changed_data)  # if so, save_model has seen to it
        if change and article.is_published and questions_changed and not text_changed:
            self._published_text_changed(request, article)
            article.save(update_fields=["status", "revision"])

    def _published_text_changed(self, request, article: Article) -> None:
        """What patients read of a published article changed (its text or its questions).

        A publisher's edit is reviewed as they write it: patients get it as a new revision, so
        those who read the article see it as updated and its questions are asked again. Anyone
        else's sends it back to review: patients must never read text no dermatologist reviewed.
        """
        if self.has_publish_permission(request):
            article.revision += 1
            messages.info(request, f"“{article}” is now revision {article.revision}: readers see it as updated.")
        else:
            article.status = Article.Status.IN_REVIEW
            messages.warning(request, f"“{article}” changed, so it went back to review and is hidden from patients.")

    def _run_workflow(self, request, queryset, step: str, done: str):
        moved = 0
        for article in queryset:
            try:
                article._history_user = request.user
                if step == "publish":
                    article.publish(by=request.user)
                else:
                    getattr(article, step)(by=request.user)
                moved += 1
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        if moved:
            messages.success(request, f"{moved} article(s) {done}.")

    @admin.action(description="Submit selected articles for medical review", permissions=["change"])
    def submit_for_review(self, request, queryset):
        self._run_workflow(request, queryset, "submit_for_review", "sent for review")

    @admin.action(description="Publish selected articles (records you as medical reviewer)", permissions=["publish"])
    def publish(self, request, queryset):
        self._run_workflow(request, queryset, "publish", "published")

    @admin.action(description="Archive selected articles (hides them from patients)", permissions=["publish"])
    def archive(self, request, queryset):
        self._run_workflow(request, queryset, "archive", "archived")


admin.site.unregister(Patient)


@admin.register(Patient)
class PatientAdmin(BasePatientAdmin):
    """portal's patient page plus this app's panel: the patient's articles, read or not, understood or not.

    routines' patient page builds on this one, as reminders' builds on that.
    """

    readonly_fields = [*BasePatientAdmin.readonly_fields, "reading"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # Whether the patient understood their treatment is clinical: dermatologists only, not the front desk.
        if obj is None or not request.user.has_perm("education.view_articleread"):
            return fieldsets
        return [*fieldsets, ("Reading and understanding", {"fields": ["reading"]})]

    @admin.display(description="The plan's articles")
    def reading(self, patient):
        """Each article of the patient's plan: read (which revision, when) and teach-back understood. Three queries."""
        today = patient.local_today()
        articles = Article.objects.for_patient(patient, today).only("title", "slug", "language", "revision")
        rows = [
            (reverse("admin:education_article_change", args=[row.article.pk]), row.article, *_words(row, today))
            for row in reading_status(patient, articles)
        ]
        if not rows:
            return "No articles in the current plan."
        return format_html(
            '<table class="reading-panel"><thead><tr><th>Article</th><th>Read</th><th>Teach-back</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            format_html_join("", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>', rows),
        )


def _words(status, today) -> tuple[str, str]:
    """(read, understood) as the staff panel says them: "read on 3 May", "understood (2 of 2 right)"..."""
    if status.read:
        first, last = (timezone.localtime(moment).date() for moment in (status.first_read_at, status.read_at))
        read = f"read on {_day(last, today)}" + (f" (first on {_day(first, today)})" if first != last else "")
    else:
        read = "updated since read" if status.read_before else "not opened yet"
    if status.understood is None:
        return read, "no questions"
    right = f"{status.answered_right} of {status.questions} right"
    return read, f"understood ({right})" if status.understood else f"not yet ({right})"


def _day(day, today) -> str:
    return date_format(day, "j F" if day.year == today.year else "j F Y")
