from django import forms


class SearchForm(forms.Form):
    """The /learn/ search box. Django's CharField also refuses NUL characters."""

    q = forms.CharField(max_length=100, required=False, strip=True)
