"""What a patient has read and understood: of a list of articles (the staff panel, the weekly digest), and
of one article's teach-back questions (the article page).

A read counts for the revision read: a new publication of the article ("updated since read") asks
for a new read, and its questions are asked again. "Understood" is every question of the article
answered right at its current revision (an article without questions is done once read).
"""

import dataclasses
import datetime as dt
from collections.abc import Iterable

from django.db.models import Exists, OuterRef

from portal.models import Patient

from .models import Article, ArticleRead, TeachBackAnswer, TeachBackQuestion


@dataclasses.dataclass(frozen=True)
class ReadingStatus:
    article: Article
    first_read_at: dt.datetime | None  # first and last time the patient opened the current revision (None: not)
    read_at: dt.datetime | None
    read_before: bool  # opened an earlier revision (and not this one yet): "updated since read"
    questions: int  # teach-back questions the article asks
    answered_right: int  # of them, answered right at the current revision

    @property
    def read(self) -> bool:
        return self.read_at is not None

    @property
    def understood(self) -> bool | None:
        """Every question answered right at this revision; None when the article asks none."""
        return None if not self.questions else self.answered_right == self.questions

    @property
    def done(self) -> bool:
        """Read at its current revision and, if it asks questions, understood."""
        return self.read and self.understood is not False


def reading_status(patient: Patient, articles: Iterable[Article]) -> list[ReadingStatus]:
    """One ReadingStatus per article, in the order given. Two queries however many articles."""
    articles = list(articles)
    ids = [article.pk for article in articles]
    current: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    earlier: set[int] = set()
    revisions = {article.pk: article.revision for article in articles}
    reads = ArticleRead.objects.filter(patient=patient, article__in=ids)
    for article_id, revision, first_at, last_at in reads.values_list("article_id", "revision", "first_at", "last_at"):
        if revision == revisions[article_id]:
            current[article_id] = (first_at, last_at)
        else:
            earlier.add(article_id)
    right = TeachBackAnswer.objects.filter(
        patient=patient, question=OuterRef("pk"), revision=OuterRef("article__revision"), correct=True
    )
    questions: dict[int, list[bool]] = {}
    asked = TeachBackQuestion.objects.filter(article__in=ids).annotate(right=Exists(right))
    for article_id, answered in asked.values_list("article_id", "right"):
        questions.setdefault(article_id, []).append(answered)
    return [
        ReadingStatus(
            article=article,
            first_read_at=current.get(article.pk, (None, None))[0],
            read_at=current.get(article.pk, (None, None))[1],
            read_before=article.pk in earlier and article.pk not in current,
            questions=len(questions.get(article.pk, [])),
            answered_right=sum(questions.get(article.pk, [])),
        )
        for article in articles
    ]


def next_to_read(patient: Patient, articles: Iterable[Article]) -> Article | None:
    """The first of `articles` the patient has not read at its current revision, or read but not understood.

    None when every one is read and understood (an article without questions is done once read).
    """
    return next((status.article for status in reading_status(patient, articles) if not status.done), None)


@dataclasses.dataclass(frozen=True)
class QuestionState:
    """A teach-back question as the article page shows it to one patient, at the article's current revision."""

    question: TeachBackQuestion
    right: bool  # answered right: done
    wrong: bool  # not yet right, and the last answer was wrong: show the explanation and ask again


def teach_back(patient: Patient, article: Article) -> list[QuestionState]:
    """The article's questions in order, each with how the patient has answered it at this revision. Two queries."""
    questions = list(article.questions.all())
    answers = TeachBackAnswer.objects.filter(patient=patient, question__in=questions, revision=article.revision)
    right: set[int] = set()
    last: dict[int, bool] = {}
    for question_id, correct in answers.order_by("answered_at", "pk").values_list("question_id", "correct"):
        last[question_id] = correct
        if correct:
            right.add(question_id)
    return [
        QuestionState(question=q, right=q.pk in right, wrong=q.pk not in right and last.get(q.pk) is False)
        for q in questions
    ]
