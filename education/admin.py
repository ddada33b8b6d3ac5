from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from portal.admin import PatientAdmin as BasePatientAdmin
from portal.history import HistoryAdmin
from portal.models import Patient

from .models import PUBLISH_PERMISSION, TARGET_READING_GRADE, TARGET_SPANISH_READING_EASE, Article, Condition

# Set only by the review actions, never typed in the form (nor brought back by a history restore).
WORKFLOW_FIELDS = ("status", "medical_reviewer", "reviewed_on", "next_review_due", "published_at")
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
    history_list_display = ["status", "reading_grade", "reading_ease"]

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
            add = reverse("admin:education_article_add") + f"?translation_of={obj.pk}&language=es"
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
            if obj.is_published and text_changed and not self.has_publish_permission(request):
                # Patients must never read text no dermatologist has reviewed.
                obj.status = Article.Status.IN_REVIEW
                messages.warning(request, f"“{obj}” changed, so it went back to review and is hidden from patients.")
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        article = form.instance
        if article.translation_of_id is not None and not article.conditions.exists():
            # A new translation files under its original's conditions unless the form chose others.
            article.conditions.set(article.translation_of.conditions.all())

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
