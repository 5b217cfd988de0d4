from __future__ import annotations

from pathlib import Path

import pytest

from app.translation.glossary import Glossary, GlossaryError, Term, load_glossary


def test_load_json(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text(
        '{"source": "en", "target": "de", "terms": {"invoice": "Rechnung"},'
        ' "do_not_translate": ["Hearth"]}',
        encoding="utf-8",
    )
    glossary = load_glossary(path)
    assert glossary.terms == (Term("invoice", "Rechnung"),)
    assert glossary.keep == ("Hearth",)
    assert (glossary.source_lang, glossary.target_lang) == ("en", "de")


def test_load_json_term_list(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text('{"terms": [{"source": "cart", "target": "Warenkorb"}]}', encoding="utf-8")
    assert load_glossary(path).terms == (Term("cart", "Warenkorb"),)


@pytest.mark.parametrize(("suffix", "sep"), [(".csv", ","), (".tsv", "\t")])
def test_load_table(tmp_path: Path, suffix: str, sep: str) -> None:
    path = tmp_path / f"g{suffix}"
    path.write_text(
        f"source{sep}target\ninvoice{sep}Rechnung\n\n# comment\nHearth\nllama.cpp{sep}\n",
        encoding="utf-8",
    )
    glossary = load_glossary(path)
    assert glossary.terms == (Term("invoice", "Rechnung"),)
    assert glossary.keep == ("Hearth", "llama.cpp")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", '{"terms": {\n"a": "b",\n}', r"bad\.json, line 3: not valid JSON"),
        ("bad.json", '["a"]', "expected a JSON object"),
        ("bad.json", '{"terms": [{"source": "a"}]}', "term 1 needs 'source' and 'target'"),
        ("bad.json", '{"do_not_translate": "Hearth"}', "must be a list"),
        ("bad.csv", "a,b\nc,d,e\n", r"bad\.csv, line 2: expected 'source,target', found 3"),
        ("bad.csv", "a,b\n,d\n", "line 2: the source term is empty"),
        ("bad.csv", 'a,b\n"c,d\n', "line"),
    ],
)
def test_malformed_files_name_the_line(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GlossaryError, match=message):
        load_glossary(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GlossaryError, match="cannot read glossary"):
        load_glossary(tmp_path / "nope.csv")


def test_instructions_and_check() -> None:
    glossary = Glossary((Term("invoice", "Rechnung"), Term("cart", "Warenkorb")), ("Hearth",))
    text = "Hearth sends the Invoice."
    relevant = glossary.relevant(text)
    assert relevant.terms == (Term("invoice", "Rechnung"),)
    prompt = relevant.instructions()
    assert '"invoice" → "Rechnung"' in prompt and '"Hearth"' in prompt
    assert "Warenkorb" not in prompt
    assert glossary.check(text, "Hearth schickt die Rechnung.") == []
    assert glossary.check(text, "Herd schickt die Faktura.") == [
        '"invoice" should be translated as "Rechnung"',
        '"Hearth" should stay untranslated',
    ]
    # Terms match whole words only: "cartoon" does not contain the term "cart".
    assert glossary.check("A cartoon.", "Ein Cartoon.") == []
    assert Glossary().instructions() == "" and not Glossary()
    assert glossary.key() != Glossary((Term("invoice", "Faktura"),), ("Hearth",)).key()


def test_violations_locate_the_terms_paragraph_by_paragraph() -> None:
    glossary = Glossary((Term("invoice", "Rechnung"),), ("Hearth",))
    source = "Hearth sends the invoice.\n\nPay the Invoice today.\n\nHearth waits."
    translation = "Hearth schickt die Rechnung.\n\nZahlen Sie die invoice heute.\n\nHerd wartet."
    [term, keep] = glossary.violations(source, translation)

    assert term.message == '"invoice" should be translated as "Rechnung"'
    # The translator checks segment by segment, with the same words.
    assert glossary.check("Pay the Invoice today.", "Zahlen Sie die invoice heute.") == [
        term.message
    ]
    # Respected in the first paragraph, not in the second: only the second is marked.
    assert [source[a:b] for a, b in term.source_spans] == ["Invoice"]
    assert term.source_spans[0][0] == source.index("Invoice")
    # Left untranslated there, so the wrong rendering is found exactly.
    assert [translation[a:b] for a, b in term.translation_spans] == ["invoice"]
    assert term.translation_exact

    assert keep.expected is None and keep.message == '"Hearth" should stay untranslated'
    assert keep.source_spans == ((source.rindex("Hearth"), len(source) - len(" waits.")),)
    # Where "Hearth" went is unknown: the whole third paragraph is marked.
    assert [translation[a:b] for a, b in keep.translation_spans] == ["Herd wartet."]
    assert not keep.translation_exact


def test_violations_without_matching_paragraphs_mark_only_the_source() -> None:
    glossary = Glossary((Term("cat", "Katze"),))
    source = "One cat.\n\nTwo cats and a cat."
    [violation] = glossary.violations(source, "Eins und zwei Hunde.")
    assert [source[a:b] for a, b in violation.source_spans] == ["cat", "cat"]
    assert violation.translation_spans == ()
    assert glossary.violations(source, "Eine Katze.\n\nZwei Katzen und eine Katze.") == []
