"""The Spanish catalogue: every marked string translated, and the committed .mo compiled from the .po.

The .mo is committed so a fresh machine needs no gettext package; these tests
catch a .po edited without `manage.py compilemessages` afterwards.
"""

import gettext
import re

import polib
import pytest
from django.utils import translation

from tests.untranslated import PO_FILE

MO_FILE = PO_FILE.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def entries():
    return [entry for entry in polib.pofile(str(PO_FILE)) if not entry.obsolete]


def compiled() -> gettext.GNUTranslations:
    with MO_FILE.open("rb") as mo:
        return gettext.GNUTranslations(mo)


def test_it_translates_every_marked_string():
    untranslated = [
        entry.msgid
        for entry in entries()
        if "fuzzy" in entry.flags or not (entry.msgstr or all(entry.msgstr_plural.values()))
    ]
    assert untranslated == []


def test_it_keeps_every_placeholder_in_the_spanish():
    wrong = []
    for entry in entries():
        pairs = [(entry.msgid, entry.msgstr)] if not entry.msgid_plural else []
        pairs += [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
        wrong += [
            (english, spanish)
            for english, spanish in pairs
            if set(PLACEHOLDER.findall(english)) != set(PLACEHOLDER.findall(spanish))
        ]
    assert wrong == []


def test_it_compiles_the_committed_mo_from_the_po():
    mo = compiled()
    stale = []
    for entry in entries():
        if entry.msgid_plural:
            for n, form in ((1, 0), (2, 2)):
                got = (
                    mo.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    if entry.msgctxt
                    else mo.ngettext(entry.msgid, entry.msgid_plural, n)
                )
                if got != entry.msgstr_plural[form]:
                    stale.append(entry.msgid)
        else:
            got = mo.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else mo.gettext(entry.msgid)
            if got != entry.msgstr:
                stale.append(entry.msgid)
    assert stale == []


def test_it_has_nothing_in_the_mo_that_the_po_lacks():
    in_po = {(f"{e.msgctxt}\x04" if e.msgctxt else "") + e.msgid for e in entries()}
    in_mo = {key[0] if isinstance(key, tuple) else key for key in compiled()._catalog} - {""}
    assert in_mo - in_po == set()


@pytest.mark.parametrize(("english", "spanish"), [("Log in", "Iniciar sesión"), ("Reminders", "Recordatorios")])
def test_it_is_what_django_loads_for_spanish(english, spanish):
    with translation.override("es"):
        assert translation.gettext(english) == spanish
    with translation.override("en"):
        assert translation.gettext(english) == english
