from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from app.cli.translate import add_parser, run


def fake_stdin(text: str) -> io.TextIOWrapper:
    """A stand-in for sys.stdin with the bytes underneath, as a real one has."""
    return io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hearth")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["translate", *argv])


def test_translates_stdin_to_stdout(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", fake_stdin("# Title\n\nHello {name}.\n"))
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
    monkeypatch.setattr("sys.stdin", fake_stdin(stdin))
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
    monkeypatch.setattr("sys.stdin", fake_stdin(MIXED))
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
    monkeypatch.setattr("sys.stdin", fake_stdin("# Title\n\nHello there.\n"))
    argv = ["--to", "de", "--from", "en", "--model", str(tiny_model), "--out", str(out), "-"]
    assert run(parse(argv)) == 0, capsys.readouterr().err
    assert out.read_text(encoding="utf-8").startswith("# ")
    assert capsys.readouterr().out == ""  # the translation went to the file only

    missing = tmp_path / "no" / "such" / "folder" / "result.md"
    monkeypatch.setattr("sys.stdin", fake_stdin("Hello there.\n"))
    argv[-2] = str(missing)
    assert run(parse(argv)) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("hearth: error: ") and "nothing was written" in err
    assert not missing.parent.exists()


# ---- run as a user runs it: a separate process, stdout a pipe ----------------------------


def hearth(
    *args: str, stdin: bytes = b"", locale: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)  # HEARTH_HOME comes from the autouse fixture
    if locale is not None:
        env["LC_ALL"] = locale
    return subprocess.run(
        [sys.executable, "-m", "app", "translate", *args],
        input=stdin,
        env=env,
        capture_output=True,
        timeout=120,
    )


TALK = (
    "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello there, everyone.\r\n\r\n"
    "2\r\n00:00:03,000 --> 00:00:04,000\r\nThe weather is lovely today.\r\n\r\n"
    "10\r\n01:02:03,004 --> 01:02:05,000\r\nSee you tomorrow.\r\n"
)
CUE_HEADS = re.compile(rb"(\d+)\r\n(\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3})\r\n")


def test_a_subtitle_file_to_stdout_is_the_file_out_would_write(
    tiny_model: Path, tmp_path: Path
) -> None:
    source = tmp_path / "talk.srt"
    source.write_bytes(TALK.encode())
    common = ("--to", "fr", "--from", "en", "--model", str(tiny_model), str(source))
    piped = hearth(*common)
    assert piped.returncode == 0, piped.stderr.decode()
    written = hearth(*common, "--out")
    assert written.returncode == 0, written.stderr.decode()
    # Cue numbers and timings never went to the model: they come out byte for byte.
    assert piped.stdout.startswith(b"1\r\n00:00:01,000 --> 00:00:02,500\r\n")
    assert CUE_HEADS.findall(piped.stdout) == CUE_HEADS.findall(TALK.encode())
    assert piped.stdout == (tmp_path / "talk.fr.srt").read_bytes()


def test_a_docx_goes_to_stdout_only_when_stdout_is_not_a_terminal(
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    source = folder / "letter.docx"
    document = docx.Document()
    document.add_paragraph("Dear reader, thank you for the lovely flowers.")
    document.save(str(source))
    argv = [str(source), "--to", "fr", "--from", "en", "--model", str(tiny_model)]
    assert run(parse(argv)) == 0, capsysbinary.readouterr().err
    out = capsysbinary.readouterr().out
    assert out.startswith(b"PK")  # a DOCX is a zip package
    (folder / "piped.docx").write_bytes(out)
    assert docx.Document(str(folder / "piped.docx")).paragraphs[0].text
    assert sorted(p.name for p in folder.iterdir()) == ["letter.docx", "piped.docx"]

    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert run(parse(argv)) == 1
    captured = capsysbinary.readouterr()
    assert captured.out == b""
    assert b"binary file, not for the terminal; give --out" in captured.err


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_stdin_that_is_not_utf8_gets_the_plain_message(locale: str, tmp_path: Path) -> None:
    result = hearth("--to", "fr", "-", stdin=b"caf\xe9 au lait\n", locale=locale)
    err = result.stderr.decode()
    assert result.returncode == 1 and result.stdout == b""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("hearth: error: The text on stdin is not UTF-8 text (byte 3)."), err
    # The same words as for a file with those bytes.
    source = tmp_path / "menu.txt"
    source.write_bytes(b"caf\xe9 au lait\n")
    from_file = hearth("--to", "fr", str(source)).stderr.decode()
    assert from_file.startswith("hearth: error: menu.txt is not UTF-8 text (byte 3).")
