"""Glossary JSON that Python's parser reads into something unusable, found by
tests/fuzz/test_glossary_files.py (issue 15): each is refused with GlossaryError (the only
error the Translate page and `hearth translate --glossary` catch), and the page's own store
opens without it and can still save."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.translation.glossary import Glossary, GlossaryError, Term, load_glossary
from app.translation.glossary_store import GlossaryStore

HOSTILE = {
    # A lone surrogate is valid JSON but not Unicode: it loaded, then every save failed with
    # UnicodeEncodeError (the store saves at shutdown).
    "surrogate-target": ('{"terms": {"invoice": "\\ud800"}}', "not valid text"),
    "surrogate-source": ('{"terms": [{"source": "\\udc00", "target": "x"}]}', "not valid text"),
    "surrogate-keep": ('{"do_not_translate": ["\\ud800"]}', "do_not_translate"),
    "surrogate-language": ('{"source": "\\ud800", "terms": {}}', "language code"),
    # RecursionError from the parser.
    "deep": ('{"terms": ' + "[" * 100_000 + "]" * 100_000 + "}", "too deeply"),
    # ValueError from int(): over 4,300 digits.
    "long-number": ('{"terms": {"a": ' + "1" * 5000 + "}}", "number too long"),
}


@pytest.mark.parametrize(("text", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_json_is_refused_with_glossary_error(
    tmp_path: Path, text: str, message: str
) -> None:
    file = tmp_path / "terms.json"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(GlossaryError, match=message):
        load_glossary(file)


@pytest.mark.parametrize("text", [text for text, _ in HOSTILE.values()], ids=HOSTILE.keys())
def test_the_store_opens_keeps_the_sound_pairs_and_saves(tmp_path: Path, text: str) -> None:
    file = tmp_path / "glossaries.json"
    sound = '{"terms": {"fire": "feu"}, "do_not_translate": []}'
    file.write_text(f'{{"auto>fr": {sound}, "en>de": {text}}}', encoding="utf-8")
    store = GlossaryStore(file)
    assert store.get("en>de") == Glossary()
    # A file Python's parser refuses (too deep, too long a number) is unreadable as a whole;
    # otherwise only the damaged pair is dropped.
    if "[" * 1000 not in text and "1" * 5000 not in text:
        assert store.get("auto>fr").terms == (Term("fire", "feu"),)
    store.save()
    json.loads(file.read_text(encoding="utf-8"))


def test_a_store_key_that_is_not_valid_text_is_dropped(tmp_path: Path) -> None:
    file = tmp_path / "glossaries.json"
    file.write_text('{"\\ud800>de": {"terms": {"a": "b"}}}', encoding="utf-8")
    store = GlossaryStore(file)
    store.save()
    assert json.loads(file.read_text(encoding="utf-8")) == {}
