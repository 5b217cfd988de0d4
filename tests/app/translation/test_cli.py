from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from app.translation.cli import add_parser, run


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hearth")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["translate", *argv])


def test_translates_stdin_to_stdout(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("# Title\n\nHello {name}.\n"))
    code = run(parse(["--to", "de", "--from", "en", "--model", str(tiny_model), "-"]))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("# ") and "{name}" in out
    assert "translating: " in err


def test_file_with_out_is_written_next_to_the_source(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "notes.md"
    source.write_text("# Notes\n\n- one\n- two\n", encoding="utf-8")
    code = run(
        parse([str(source), "--to", "fr", "--from", "en", "--model", str(tiny_model), "--out"])
    )
    assert code == 0, capsys.readouterr().err
    translated = (tmp_path / "notes.fr.md").read_text(encoding="utf-8")
    assert translated.startswith("# ") and "\n\n- " in translated
    assert source.read_text(encoding="utf-8") == "# Notes\n\n- one\n- two\n"


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["--to", "xx"], "Hello", "unknown language 'xx'"),
        (["--to", "de"], "  \n", "there is no text to translate"),
        (["--to", "de"], "ok", "too short to tell its language"),
        (["--to", "de", "missing.txt"], "", "missing.txt: no such file"),
        (["--to", "de", "--from", "en", "--model", "/nope.gguf"], "Hi there.", "no such model"),
    ],
)
def test_errors_are_one_line(
    argv: list[str],
    stdin: str,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert run(parse(argv)) == 1
    err = capsys.readouterr().err
    assert err.startswith("hearth: error: ") and message in err
    assert err.count("\n") == 1


def test_malformed_glossary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    glossary = tmp_path / "g.csv"
    glossary.write_text("a,b\nc,d,e\n", encoding="utf-8")
    assert run(parse(["--to", "de", "--glossary", str(glossary), "-"])) == 1
    assert "g.csv, line 2" in capsys.readouterr().err


MIXED = (
    "The quick brown fox jumps over the lazy dog while the farmer watches. "
    "Der schnelle braune Fuchs springt über den faulen Hund, während der Bauer zuschaut."
)


def test_mixed_languages_ask_for_from(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(MIXED))
    assert run(parse(["--to", "fr", "-"])) == 1
    err = capsys.readouterr().err
    assert "mixes English and German" in err and "give --from LANG" in err


def test_a_file_written_with_out_has_its_language_detected(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "walk.txt"
    source.write_text(
        "The weather was lovely, so we walked along the river until sunset.\n", encoding="utf-8"
    )
    assert run(parse([str(source), "--to", "fr", "--model", str(tiny_model), "--out"])) == 0
    err = capsys.readouterr().err
    assert "hearth: detected English" in err and "walk.fr.txt" in err
    assert (tmp_path / "walk.fr.txt").read_text(encoding="utf-8").strip()


def test_stdin_with_out_writes_the_file_whole_or_says_why_not(
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "result.md"
    monkeypatch.setattr("sys.stdin", io.StringIO("# Title\n\nHello there.\n"))
    argv = ["--to", "de", "--from", "en", "--model", str(tiny_model), "--out", str(out), "-"]
    assert run(parse(argv)) == 0, capsys.readouterr().err
    assert out.read_text(encoding="utf-8").startswith("# ")
    assert capsys.readouterr().out == ""  # the translation went to the file only

    missing = tmp_path / "no" / "such" / "folder" / "result.md"
    monkeypatch.setattr("sys.stdin", io.StringIO("Hello there.\n"))
    argv[-2] = str(missing)
    assert run(parse(argv)) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("hearth: error: ") and "nothing was written" in err
    assert not missing.parent.exists()
