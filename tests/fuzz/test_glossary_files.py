"""Property: glossary files from outside (JSON, CSV, TSV: app.translation.glossary's
load_glossary) and the Translate page's own glossary store (app.translation.glossary_store),
damaged or made up, are read or refused with GlossaryError; the store never fails to open.
What is read can be used (prompt lines, checks) and saved by the store, and the store reads
its own file back; never another exception, never a hang (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.translation.glossary import Glossary, GlossaryError, dump_json, load_glossary, parse_json
from app.translation.glossary_store import GlossaryStore
from tests.support.fuzzing import FUZZ, JSON, json_paths, mutated, replaced

pytestmark = pytest.mark.timeout(180)

GLOSSARY: dict[str, Any] = {
    "source": "en",
    "target": "de",
    "terms": {"invoice": "Rechnung", "C++": "C++", "Hearth": "Herd"},
    "do_not_translate": ["Hearth", "GGUF"],
}
LISTED: dict[str, Any] = {
    "terms": [{"source": "invoice", "target": "Rechnung"}, {"source": "due", "target": "fällig"}],
    "do_not_translate": ["Hearth"],
}
TABLE = 'source,target\ninvoice,Rechnung\n"due, today","fällig, heute"\n# note\nHearth,\n\nGGUF\n'
STORE = {"en>de": GLOSSARY, "auto>fr": {"terms": {"fire": "feu"}, "do_not_translate": []}}
SAMPLE = "The invoice for Hearth is due.\n\nC++ and GGUF: the invoice again."
# Characters CSV and JSON care about, so made-up files reach the parsers' inner paths.
TABLE_TEXT = st.text(
    alphabet=st.sampled_from(list(",;\t\"'#\n\r \\\x00ab")) | st.characters(), max_size=200
)


def _usable(glossary: Glossary, tmp_path: Path) -> None:
    """What the Translate page does with a glossary it read: prompt lines, checks of a
    translation, and saving it with the others in the store, which reads it back."""
    glossary.instructions()
    glossary.relevant(SAMPLE).check(SAMPLE, SAMPLE.upper())
    glossary.violations(SAMPLE, SAMPLE.lower())
    store_file = tmp_path / "saved-glossaries.json"  # the data folder exists
    store = GlossaryStore(store_file)
    store.put("en>de", glossary)
    store.save()
    expected = parse_json(dump_json(glossary)) if glossary else Glossary()
    assert GlossaryStore(store_file).get("en>de") == expected


def _read_or_refused(file: Path, tmp_path: Path) -> None:
    try:
        glossary = load_glossary(file)
    except GlossaryError as exc:
        assert str(exc)
    else:
        _usable(glossary, tmp_path)


@FUZZ
@given(data=st.data(), original=st.sampled_from([GLOSSARY, LISTED]))
def test_a_damaged_json_glossary_is_read_or_refused(
    tmp_path: Path, data: st.DataObject, original: dict[str, Any]
) -> None:
    file = tmp_path / "terms.json"
    file.write_bytes(mutated(data, json.dumps(original, ensure_ascii=False).encode()))
    _read_or_refused(file, tmp_path)


@FUZZ
@given(data=st.data(), original=st.sampled_from([GLOSSARY, LISTED]), value=JSON)
def test_a_json_glossary_with_any_value_anywhere_is_read_or_refused(
    tmp_path: Path, data: st.DataObject, original: dict[str, Any], value: Any
) -> None:
    path = data.draw(st.sampled_from(list(json_paths(original))), label="path")
    file = tmp_path / "terms.json"
    file.write_text(json.dumps(replaced(original, path, value)), encoding="utf-8")
    _read_or_refused(file, tmp_path)


@FUZZ
@given(data=st.data(), suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_a_damaged_table_glossary_is_read_or_refused(
    tmp_path: Path, data: st.DataObject, suffix: str
) -> None:
    table = TABLE.replace(",", "\t") if suffix == ".tsv" else TABLE
    file = tmp_path / f"terms{suffix}"
    file.write_bytes(mutated(data, table.encode()))
    _read_or_refused(file, tmp_path)


@FUZZ
@given(text=TABLE_TEXT, suffix=st.sampled_from([".csv", ".tsv", ".json"]))
def test_a_made_up_glossary_file_is_read_or_refused(tmp_path: Path, text: str, suffix: str) -> None:
    file = tmp_path / f"terms{suffix}"
    file.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    _read_or_refused(file, tmp_path)


def _store_opens(file: Path, tmp_path: Path) -> None:
    store = GlossaryStore(file)  # never raises: a damaged file must not stop the page
    for key in ("en>de", "auto>fr"):
        _usable(store.get(key), tmp_path)
    store.save()
    GlossaryStore(file)


@FUZZ
@given(data=st.data())
def test_a_damaged_store_file_opens(tmp_path: Path, data: st.DataObject) -> None:
    file = tmp_path / "glossaries.json"
    file.write_bytes(mutated(data, json.dumps(STORE, ensure_ascii=False).encode()))
    _store_opens(file, tmp_path)


@FUZZ
@given(data=st.data(), value=JSON)
def test_a_store_file_with_any_value_anywhere_opens(
    tmp_path: Path, data: st.DataObject, value: Any
) -> None:
    path = data.draw(st.sampled_from(list(json_paths(STORE))), label="path")
    file = tmp_path / "glossaries.json"
    file.write_text(json.dumps(replaced(STORE, path, value)), encoding="utf-8")
    _store_opens(file, tmp_path)


@FUZZ
@given(key=st.text(max_size=10), value=JSON)
def test_a_store_file_with_any_entry_opens(tmp_path: Path, key: str, value: Any) -> None:
    file = tmp_path / "glossaries.json"
    file.write_text(json.dumps({**STORE, key: value}), encoding="utf-8")
    _store_opens(file, tmp_path)


# JSON text the value strategy cannot produce (it builds values, and Python's values have no
# lone surrogates, no nesting too deep to parse, no 5,000-digit numbers), put in as written.
HOSTILE_JSON = st.sampled_from(
    ['"\\ud800"', '"a\\udfffb"', "[" * 100_000 + "]" * 100_000, "1" * 5000, "NaN", "-1e999"]
)
_SLOT = "\x00hostile\x00"


@FUZZ
@given(data=st.data(), original=st.sampled_from([GLOSSARY, LISTED, STORE]), text=HOSTILE_JSON)
def test_hostile_json_text_anywhere_is_read_or_refused(
    tmp_path: Path, data: st.DataObject, original: dict[str, Any], text: str
) -> None:
    path = data.draw(st.sampled_from(list(json_paths(original))), label="path")
    document = json.dumps(replaced(original, path, _SLOT)).replace(json.dumps(_SLOT), text)
    if original is STORE:
        file = tmp_path / "glossaries.json"
        file.write_text(document, encoding="utf-8")
        _store_opens(file, tmp_path)
    else:
        file = tmp_path / "terms.json"
        file.write_text(document, encoding="utf-8")
        _read_or_refused(file, tmp_path)
