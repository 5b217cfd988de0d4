from __future__ import annotations

import argparse
import json
from pathlib import Path

import huggingface_hub.constants
import pytest

from app.cli import models as cli
from app.config.paths import resolve_paths
from tests.support.fake_hub import FakeHub
from tests.support.model_hub import hub, isolated_home, tiny_bytes  # noqa: F401 (fixtures)
from tests.support.tiny_gguf import build_tiny_model


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="hearth")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return cli.run(parser.parse_args(["models", *argv]))


def test_a_fresh_data_folder_lists_the_builtin_model(capsys: pytest.CaptureFixture[str]) -> None:
    """Before the first start unpacked it, the built-in model is already the one Hearth
    uses: `list` shows it (marked built-in) under the app's one name for it."""
    assert _run("list") == 0
    out = capsys.readouterr().out
    (line,) = out.splitlines()
    assert line.startswith("Gemma 3 270m · Q4_K_M  (gemma3, 270M, Q4_K_M, ")
    assert "built-in, unpacked on first use" in line and "No models" not in out
    assert _run("info", "built-in") == 0
    out = capsys.readouterr().out
    assert out.startswith("Gemma 3 270m · Q4_K_M  (") and "layers:         18" in out


def test_list_and_info(capsys: pytest.CaptureFixture[str]) -> None:
    models_dir = resolve_paths().ensure().models_dir
    build_tiny_model(models_dir / "cli-tiny.gguf", chat_template="{{ x }}")
    assert _run("list") == 0
    assert "tiny-test · F32  (llama" in capsys.readouterr().out
    assert _run("list", "--json") == 0
    _builtin, entry = json.loads(capsys.readouterr().out)
    assert entry["architecture"] == "llama" and entry["has_chat_template"]
    assert _run("info", "cli-tiny", "--n-ctx", "1024") == 0
    out = capsys.readouterr().out
    assert "fit at context 1,024" in out and "general.architecture = llama" in out
    assert _run("info", "cli-tiny", "--json", "--gpu-layers", "0") == 0
    fit = json.loads(capsys.readouterr().out)["fit"]
    assert fit["verdict"] in ("CPU only", "won't fit") and fit["total_layers"] == 3


def test_import_bad_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_text("hello")
    assert _run("import", str(bad)) == 1
    err = capsys.readouterr().err
    assert err.startswith("hearth: error: ") and err.count("\n") == 1
    good = build_tiny_model(tmp_path / "good.gguf")
    assert _run("import", str(good)) == 0
    assert "stays where it is" in capsys.readouterr().out


def test_info_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("info", "does-not-exist") == 1
    assert "No installed model" in capsys.readouterr().err


def test_search_and_pull(
    hub: FakeHub,  # noqa: F811
    tiny_bytes: bytes,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub.add_file("someone/Tiny-GGUF", "tiny-Q4_K_M.gguf", tiny_bytes)
    hub.add_file("someone/Tiny-GGUF", "tiny-Q8_0.gguf", tiny_bytes)
    assert _run("search", "tiny", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["repo_id"] == "someone/Tiny-GGUF"
    assert _run("pull", "someone/Tiny-GGUF", "--list") == 0
    assert "tiny-Q8_0.gguf  (Q8_0" in capsys.readouterr().out
    assert _run("pull", "someone/Tiny-GGUF", "--json") == 0  # picks Q4_K_M
    path = Path(json.loads(capsys.readouterr().out)["path"])
    assert path.name == "tiny-Q4_K_M.gguf" and path.read_bytes() == tiny_bytes
    assert _run("list") == 0
    assert str(path) in capsys.readouterr().out


def test_pull_errors(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    hub.add_file("a/no-gguf", "model.safetensors", b"x")
    assert _run("pull", "a/no-gguf") == 1
    assert "has no GGUF files" in capsys.readouterr().err
    assert _run("pull", "a/missing") == 1
    assert "no such repository" in capsys.readouterr().err


def test_info_of_a_hub_file_reads_only_its_header(
    hub: FakeHub,  # noqa: F811
    tiny_bytes: bytes,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub.add_file("someone/Tiny-GGUF", "tiny-Q4_K_M.gguf", tiny_bytes)
    assert _run("info", "someone/Tiny-GGUF", "Q4_K_M", "--n-ctx", "1024", "--json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["architecture"] == "llama" and payload["fit"]["n_ctx"] == 1024
    assert payload["fit"]["kv_bytes"] > 0 and payload["fit"]["total_layers"] == 3
    assert all(h.get("Range") for h in hub.file_requests("tiny-Q4_K_M.gguf"))
    assert _run("info", "someone/Tiny-GGUF", "Q8_0") == 1
    assert "has no GGUF file 'Q8_0'" in capsys.readouterr().err


def test_remove_deletes_downloads_and_forgets_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    models_dir = resolve_paths().ensure().models_dir
    downloaded = build_tiny_model(models_dir / "cli-remove.gguf")
    monkeypatch.setattr("builtins.input", lambda _prompt: "n")
    assert _run("remove", "cli-remove") == 1
    assert "Nothing was deleted" in capsys.readouterr().out and downloaded.exists()
    assert _run("remove", "cli-remove", "--yes") == 0
    assert capsys.readouterr().out.startswith("Deleted cli-remove.gguf; ")
    assert not downloaded.exists()

    elsewhere = build_tiny_model(tmp_path / "kept.gguf")
    assert _run("import", str(elsewhere)) == 0
    assert _run("remove", str(elsewhere)) == 0
    assert "the file stays where it is" in capsys.readouterr().out and elsewhere.exists()
    assert _run("remove", str(elsewhere), "--yes") == 1  # no longer listed: never deleted
    assert "not in Hearth's models folder" in capsys.readouterr().err and elsewhere.exists()


def test_search_without_a_network_is_one_plain_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No retry lines from huggingface-hub, no exception name: one line saying why."""
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    assert _run("search", "gemma") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "hearth: error: Cannot reach hub.invalid: no network connection (name lookup failed).\n"
    )
