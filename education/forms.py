from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import Article, TeachBackQuestion


class SearchForm(forms.Form):
    """The /learn/ search box. Django's CharField also refuses NUL characters."""

    q = forms.CharField(max_length=100, required=False, strip=True)


class TeachBackForm(forms.Form):
    """One teach-back question at the end of an article: its choices as radio buttons, posted on their own."""

    choice = forms.TypedChoiceField(
        coerce=int, widget=forms.RadioSelect, error_messages={"required": _("Please choose an answer.")}
    )

    def __init__(self, question: TeachBackQuestion, article: Article, *args, **kwargs):
        # A prefix per question: several forms on one page, each with its own radio ids.
        super().__init__(*args, prefix=f"question-{question.pk}", **kwargs)
        self.fields["choice"].label = question.question
        self.fields["choice"].choices = question.choices()
        self.helper = FormHelper()
        self.helper.form_action = reverse("education:answer-question", args=[article.slug, question.pk])
        # The question and choices are the article's words, the button the page's (an English article
        # shown to a Spanish reader for want of a translation has a Spanish button).
        self.helper.attrs = {"lang": article.language}
        self.helper.add_input(Submit("answer", _("Check my answer"), css_class="btn-primary", lang=get_language()))
