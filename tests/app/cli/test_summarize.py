from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from app.cli.summarize import add_parser, run
from tests.support.document_builders import make_pdf, page_text


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hearth")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["summarize", *argv])


def test_json_summary_with_citations_and_timing(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_pdf(tmp_path / "doc.pdf", [page_text(p, sentences=14) for p in range(1, 5)])
    argv = [str(path), "--model", str(tiny_model), "--n-ctx", "1024", "--length", "60", "--json"]
    assert run(parse(argv)) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["summary"] and payload["from_cache"] is False
    timing = payload["timing"]
    assert timing["chunks"] >= 2 and timing["tokens_in"] > 0 and timing["tokens_out"] > 0
    assert timing["seconds"] > 0 and timing["tokens_per_second"] > 0
    assert all({"chunks", "refs", "labels"} <= set(c) for c in payload["citations"])
    assert "[map]" in captured.err or "[final]" in captured.err  # progress went to stderr

    # The same command again comes from the library, without the engine doing any work.
    assert run(parse(argv)) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["from_cache"] is True and again["summary"] == payload["summary"]


def test_plain_output_streams_the_summary_to_stdout(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "note.md"
    path.write_text("# Note\n\nThe kettle boils water. It is quick.\n", encoding="utf-8")
    assert (
        run(
            parse(
                [
                    str(path),
                    "--model",
                    str(tiny_model),
                    "--n-ctx",
                    "1024",
                    "--length",
                    "short",
                    "--style",
                    "paragraph",
                    "--language",
                    "fr",
                ]
            )
        )
        == 0
    )
    captured = capsys.readouterr()
    assert captured.out.strip()
    assert "1 chunks" in captured.err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "cannot be read"),
        ("empty.txt", b"", "is empty"),
        ("x.png", b"png", "unknown document type"),
    ],
)
def test_errors_are_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert run(parse([str(path)])) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hearth: error: ") and message in err[0]


def test_bad_model_is_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Some text.", encoding="utf-8")
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model")
    assert run(parse([str(path), "--model", str(bogus)])) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("hearth: error: ")


def test_length_must_be_a_name_or_a_number() -> None:
    with pytest.raises(SystemExit):
        parse(["file.txt", "--length", "huge"])
