"""Every catalogue is complete, and the compiled .mo files say what the .po files say."""

import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import shelfcall

LOCALE = Path(shelfcall.__file__).parent / "locale"


@pytest.mark.parametrize("language", ["fr", "ko", "es"])
def test_catalogue_is_complete_and_compiled(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.po", "rb") as po_file:
        catalog = read_po(po_file)
    messages = [m for m in catalog if m.id]
    assert messages
    assert not [m.id for m in messages if m.fuzzy], "fuzzy translations left"
    assert not [m.id for m in messages if not (m.string if isinstance(m.string, str) else all(m.string))]
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)
    for message in messages:
        if isinstance(message.id, str):
            key = f"{message.context}\x04{message.id}" if message.context else message.id
            assert compiled._catalog.get(key) == message.string, f"{message.id!r}: compile the catalogue again"
