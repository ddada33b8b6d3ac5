"""Finds interface text left in English on a page or email meant for a Spanish reader.

Two nets, because English can slip through two ways:

- a string marked for translation whose Spanish never arrived (no translation
  in the catalogue, or the page rendered with English active): caught by
  looking for the English msgids of locale/es/LC_MESSAGES/django.po;
- a string nobody marked: caught by English words that never occur in Spanish.

Text inside an element marked `lang="en"` is English on purpose (the language
switch's "English", an article shown in English because it has no Spanish
version yet), so it is skipped: marking it is what the page owes a screen reader.
"""

import functools
import re
from html.parser import HTMLParser
from pathlib import Path

import polib

PO_FILE = Path(__file__).resolve().parent.parent / "locale" / "es" / "LC_MESSAGES" / "django.po"

# Words common in English interface text that are not Spanish words ("a", "no", "me", "plan", "has" are both).
ENGLISH_WORDS = frozenset(
    """
    the your you and with this that these is are was were will not for from to of on by at
    please here have been yet what when where which who how could should would
    there their they them our we us it its an or if then than do does did done
    today learn reminders reminder log out sign step steps print download search
    """.split()
)

VOID_ELEMENTS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
HIDDEN_ELEMENTS = frozenset(("script", "style", "template"))
# Attributes a person hears or sees.
VISIBLE_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
WORD = re.compile(r"[^\W\d_]+")
URLS_AND_EMAILS = re.compile(r"\S+://\S+|\S+@\S+")
# What a msgid is split on: placeholders, HTML tags, and punctuation that ends a phrase.
MSGID_SEPARATORS = re.compile(r"%\(\w+\)[sd]|<[^>]+>|[“”\"?:;.!()·]")


@functools.cache
def english_phrases() -> tuple[frozenset[str], tuple[str, ...]]:
    """(single words, phrases of two words or more) from the catalogue's English msgids.

    Only msgids whose Spanish differs count ("PDF" is "PDF" in both), and only
    pieces with a word of two letters or more (date formats such as "j F Y" are not text).
    """
    words, phrases = set(), set()
    for entry in polib.pofile(str(PO_FILE)):
        if entry.obsolete:
            continue
        translations = [entry.msgstr, *entry.msgstr_plural.values()]
        for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
            if msgid in translations:
                continue
            for piece in MSGID_SEPARATORS.split(msgid):
                piece = " ".join(piece.split()).strip(" ,")
                found = WORD.findall(piece)
                if not any(len(word) > 1 for word in found):
                    continue
                (phrases if len(found) > 1 else words).add(piece)
    return frozenset(words), tuple(sorted(phrases, key=len, reverse=True))


def looks_english(text: str) -> bool:
    """Whether `text` has English words or phrases in it. Addresses (URLs, emails) are not words."""
    text = " ".join(URLS_AND_EMAILS.sub(" ", text).split())
    if not text:
        return False
    if any(word.lower() in ENGLISH_WORDS for word in WORD.findall(text)):
        return True
    words, phrases = english_phrases()
    return text.strip(" .,:;·") in words or any(phrase in text for phrase in phrases)


class _VisibleText(HTMLParser):
    """Collects the visible text nodes and attributes, with the language each is marked in."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None, bool]] = []  # (tag, lang, hidden)
        self.option_value: str | None = None
        self.found: list[tuple[str, str | None]] = []

    def _lang(self) -> str | None:
        return next((lang for _tag, lang, _hidden in reversed(self.stack) if lang), None)

    def _hidden(self) -> bool:
        return any(hidden for _tag, _lang, hidden in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden = tag in HIDDEN_ELEMENTS or "hidden" in attrs or attrs.get("aria-hidden") == "true"
        # The root's lang is what the page claims to be in, not an exemption: a page left
        # in English says lang="en" there, and that is exactly what must be caught.
        lang = attrs.get("lang") if tag != "html" else None
        if not hidden and not self._hidden():
            for name in VISIBLE_ATTRIBUTES:
                if attrs.get(name):
                    self.found.append((attrs[name], lang or self._lang()))
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.found.append((attrs["value"], lang or self._lang()))
        if tag == "option":
            self.option_value = attrs.get("value")
        if tag not in VOID_ELEMENTS:
            self.stack.append((tag, lang, hidden))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.stack.pop()

    def handle_endtag(self, tag):
        # Pop back to the matching open tag (an unclosed <p> or <li> closes with its parent).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        in_option = self.stack and self.stack[-1][0] == "option"
        if in_option and self.option_value and data.strip() in (self.option_value, self.option_value.replace("_", " ")):
            return  # a choice shown as its own code (a time zone such as "US/Eastern") is not interface text
        if not self._hidden() and data.strip():
            self.found.append((data, self._lang()))


def english_left(html: str) -> list[str]:
    """The visible text of `html` (an HTML page or email) that is English but not marked lang="en"."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return [" ".join(text.split()) for text, lang in parser.found if lang != "en" and looks_english(text)]


def english_lines(text: str) -> list[str]:
    """The lines of a plain-text email or SMS that are English."""
    return [line.strip() for line in text.splitlines() if looks_english(line)]
