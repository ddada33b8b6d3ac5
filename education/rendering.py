"""Article text: Markdown to sanitised HTML, and its reading level.

Article bodies are untrusted input, whoever wrote them: a compromised staff
account must not be able to put a script in front of patients. So raw HTML
in the Markdown is dropped before rendering, and the rendered HTML is then
cleaned by nh3 against an allowlist (belt and braces).
"""

import functools
import posixpath
import re
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import markdown
import nh3
import pyphen
from django.conf import settings
from django.urls import reverse
from markdown.extensions import Extension
from markdown.postprocessors import RawHtmlPostprocessor

ALLOWED_TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote"),
    *("ul", "ol", "li", "strong", "em", "b", "i", "code", "pre", "a", "img"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>\n?")


class _DropRawHtml(RawHtmlPostprocessor):
    """Put back stashed entities (&amp; etc.) but never the author's raw HTML tags."""

    def stash_to_string(self, text) -> str:
        text = str(text)
        return "" if text.lstrip().startswith("<") else text


class _NoRawHtmlExtension(Extension):
    def extendMarkdown(self, md):  # noqa: N802 (Markdown's API name)
        md.postprocessors.register(_DropRawHtml(md), "raw_html", 30)


def _decoded_path(value: str) -> str | None:
    """`value` percent-decoded until it stops changing, then normalised; None if it escapes or is odd.

    Checked on the decoded form because browsers and servers decode too: "%2e%2e/" and
    "%252e%252e/" are ".." by the time they reach a view.
    """
    for _ in range(5):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    else:
        return None  # still encoded after five rounds: nothing honest looks like that
    if "\\" in value or any(ord(char) < 32 for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    if ".." in parts.path.split("/"):
        return None
    normalised = posixpath.normpath(parts.path)
    return normalised + ("/" if parts.path.endswith("/") and normalised != "/" else "")


def _own_files_only(tag: str, attribute: str, value: str) -> str | None:
    """nh3 attribute filter: images load only our own static files; links stay in the library or leave the site.

    An article must never point a browser at a page of the portal that does something
    (a handout, an admin page): an <img> would fetch it as whoever reads the article.
    """
    if tag == "img" and attribute == "src":
        path = _decoded_path(value)
        return path if path and path.startswith(settings.STATIC_URL) and path != settings.STATIC_URL else None
    if tag == "a" and attribute == "href":
        if value.startswith(("http://", "https://", "mailto:", "#")):
            return value  # another site, or a place on this page; nh3 checks the scheme
        path = _decoded_path(value)
        return path if path and path.startswith((reverse("education:article-list"), settings.STATIC_URL)) else None
    return value


def render_markdown(text: str) -> str:
    """The article body as HTML that is safe to put on a page as is."""
    md = markdown.Markdown(
        extensions=["sane_lists", "tables", _NoRawHtmlExtension()],
        extension_configs={"tables": {"use_align_attribute": True}},
        output_format="html",
    )
    html = md.convert(text)
    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_own_files_only,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return EMPTY_PARAGRAPH.sub("", html)


# Readability ---------------------------------------------------------------

_BLOCK_TAGS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "blockquote", "pre", "tr"}
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’][A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


class _BlockText(HTMLParser):
    """Collects the text of each block (paragraph, list item, heading...)."""

    def __init__(self):
        super().__init__()
        self.blocks: list[str] = []
        self._current: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag):
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data):
        self._current.append(data)

    def _flush(self):
        text = " ".join("".join(self._current).split())
        if text:
            self.blocks.append(text)
        self._current = []

    def close(self):
        super().close()
        self._flush()


def plain_sentences(html: str) -> str:
    """The text of `html`, each block ending as a sentence (a heading or list item counts as one)."""
    parser = _BlockText()
    parser.feed(html)
    parser.close()
    return " ".join(block if block[-1] in ".!?:" else f"{block}." for block in parser.blocks)


@functools.cache
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")


def count_syllables(word: str) -> int:
    """English syllables, estimated from Pyphen's hyphenation points (as textstat does offline)."""
    return len(_hyphenator().positions(word.lower())) + 1


def flesch_kincaid_grade(html: str) -> float | None:
    """The Flesch-Kincaid grade level of the text in `html`, or None if it has no words.

    Not textstat: its English syllable counter downloads the NLTK CMU
    dictionary on first use, which a clinic server must not do (and cannot,
    offline). Syllables come from Pyphen's bundled hyphenation dictionary
    (textstat's own fallback); the formula is the standard one:
    0.39 × words per sentence + 11.8 × syllables per word − 15.59.
    """
    counts = _counts(html, count_syllables)
    if counts is None:
        return None
    words, sentences, syllables = counts
    grade = 0.39 * words / sentences + 11.8 * syllables / words - 15.59
    return round(max(grade, 0.0), 1)


def _counts(html: str, syllables_of) -> tuple[int, int, int] | None:
    """(words, sentences, syllables) of the text in `html`, syllables by `syllables_of(word)`; None if no words.

    A text without sentence ends is one sentence.
    """
    text = plain_sentences(html)
    words = _WORD.findall(text)
    if not words:
        return None
    return len(words), max(1, len(_SENTENCE_END.findall(text))), sum(syllables_of(word) for word in words)


# Spanish readability -----------------------------------------------------------

_ES_VOWELS = frozenset("aeiouáéíóúü")
_ES_STRONG = frozenset("aeoáéó")
_ES_ACCENTED_WEAK = frozenset("íú")
_SILENT_U = re.compile(r"(?<=[qg])u(?=[eiéí])")  # que, qui, gue, gui (güe, güi keep theirs)


@functools.cache
def _spanish_hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="es", left=1, right=1)


def _vowel_nuclei(piece: str) -> int:
    """Syllable nuclei in `piece`: runs of vowels, split where Spanish splits them (hiatus).

    Two strong vowels (a, e, o) side by side, or an accented í/ú next to a vowel, are two
    syllables (le-er, pa-ís, dí-a); other pairs are one diphthong (cui-da, bue-no). "y"
    is a vowel when no vowel follows it (muy, hoy, y).
    """
    piece = _SILENT_U.sub("", piece)
    nuclei, previous = 0, None
    for index, char in enumerate(piece):
        following = piece[index + 1] if index + 1 < len(piece) else ""
        is_vowel = char in _ES_VOWELS or (char == "y" and following not in _ES_VOWELS)
        if not is_vowel:
            previous = None
            continue
        if previous is None:
            nuclei += 1
        elif (previous in _ES_STRONG and char in _ES_STRONG) or _ES_ACCENTED_WEAK & {previous, char}:
            nuclei += 1  # hiatus
        previous = char
    return nuclei


def count_spanish_syllables(word: str) -> int:
    """Spanish syllables: Pyphen's Spanish dictionary splits the word, each piece counts its vowel nuclei.

    The hyphenation dictionary is made for typesetting, so it leaves some syllables joined
    (a-gua, le-er, dí-a); counting the nuclei of each piece puts those back.
    """
    pieces = _spanish_hyphenator().inserted(word.lower()).split("-")
    return max(1, sum(_vowel_nuclei(piece) for piece in pieces))


def szigriszt_pazos(html: str) -> float | None:
    """The Szigriszt-Pazos perspicuity of the Spanish text in `html` (INFLESZ scale), or None if it has no words.

    206.835 − 62.3 × syllables per word − words per sentence, kept within 0-100. Higher is
    easier: below 40 very hard, 40-55 somewhat hard, 55-65 normal, 65-80 fairly easy,
    80 and above very easy (Barrio-Cantalejo et al., 2008). It is Flesch's reading ease
    fitted to Spanish, whose words have more syllables than English ones.
    """
    counts = _counts(html, count_spanish_syllables)
    if counts is None:
        return None
    words, sentences, syllables = counts
    ease = 206.835 - 62.3 * syllables / words - words / sentences
    return round(min(max(ease, 0.0), 100.0), 1)
