"""`hearth bench` on a tiny model: the JSON fields, the CSV header, the table, one line per
failed configuration while the others run, a model that fails to load, results stored."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.bench import add_parser, run
from app.cli.bench_output import FIELDS
from app.config.paths import resolve_paths
from storage.bench import BenchResultRepository
from storage.database import Database
from tests.support.tiny_gguf import build_corrupt_variants

REQUIRED = {
    "n_prompt",
    "n_gen",
    "depth",
    "n_gpu_layers",
    "threads",
    "pp_tps",
    "tg_tps",
    "pp_tps_sd",
    "tg_tps_sd",
    "llama_pp_tps",
    "llama_tg_tps",
    "n_batch",
    "flash_attn",
    "type_k",
    "pp_ratio",
    "tg_ratio",
    "error",
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hearth")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["bench", *argv])


def _stored() -> list[object]:
    database, _ = Database.open(resolve_paths().database)
    try:
        return list(BenchResultRepository(database).list())
    finally:
        database.close()


def test_json_has_every_field_for_every_configuration_and_is_stored(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tiny_model), "-p", "64", "-n", "8", "-d", "0,4096", "-b", "32,64", "-r", "2"]
    assert run(parse([*argv, "--json"])) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    results = payload["results"]
    assert len(results) == 4  # two batch sizes × two depths
    assert [(r["n_batch"], r["depth"]) for r in results] == [
        (32, 0),
        (32, 1976),  # 4096 lowered to fit the tiny model's 2048-token context
        (64, 0),
        (64, 1976),
    ]
    for result in results:
        assert set(result) >= REQUIRED
        assert result["error"] is None and result["threads"] == 1
        for name in ("pp_tps", "tg_tps", "llama_pp_tps", "llama_tg_tps", "pp_ratio", "tg_ratio"):
            assert result[name] > 0
    assert payload["stopped"] is False and "depth 4096 lowered to 1976" in payload["notes"][0]
    assert "[4/4]" in captured.err  # progress went to stderr
    stored = _stored()
    assert len(stored) == 4 and {r.run_id for r in stored} == {payload["run_id"]}  # type: ignore[attr-defined]


def test_flash_attention_takes_auto_on_off_and_records_what_auto_became(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tiny_model), "-p", "16", "-n", "4", "-d", "0", "-r", "1", "-fa", "auto,0"]
    assert run(parse([*argv, "--json"])) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    # On a CPU llama.cpp's auto turns flash attention on; 0 is llama-bench's off.
    assert [r["flash_attn"] for r in results] == [True, False]
    assert all(r["error"] is None for r in results)
    with pytest.raises(SystemExit):
        parse([str(tiny_model), "-fa", "sometimes"])


def test_csv_has_a_header_and_a_row_per_configuration(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parse([str(tiny_model), "-p", "16", "-n", "4", "-d", "0", "-r", "1", "--csv"])) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == FIELDS and len(rows) == 2


def test_table_by_default_with_a_row_per_test(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parse([str(tiny_model), "-p", "16", "-n", "4", "-d", "0,32", "-r", "1"])) == 0
    out = capsys.readouterr().out
    assert "| pp16 " in out and "| tg4 " in out and "pp16 @ d32" in out and "llama.cpp t/s" in out


def test_a_bad_configuration_gives_one_line_and_the_others_run(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tiny_model), "-p", "16", "-n", "4", "-d", "0", "-r", "1", "-ctv", "q4_0,f16"]
    argv += ["-fa", "off"]
    assert run(parse([*argv, "--json"])) == 0
    captured = capsys.readouterr()
    bad, good = json.loads(captured.out)["results"]
    assert "needs flash attention" in bad["error"] and bad["tg_tps"] is None
    assert good["error"] is None and good["tg_tps"] > 0
    failures = [line for line in captured.err.splitlines() if "ctv=q4_0" in line]
    assert len(failures) == 1


def test_more_gpu_layers_than_the_build_offloads_runs_and_says_so(
    tiny_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tiny_model), "-p", "16", "-n", "4", "-d", "0", "-r", "1", "-ngl", "99", "--json"]
    assert run(parse(argv)) == 0
    captured = capsys.readouterr()
    [result] = json.loads(captured.out)["results"]
    assert result["error"] is None and result["n_gpu_layers"] == 99
    if result["backend"] == "CPU":  # a CPU-only llama.cpp build: nothing offloaded, said once
        assert result["n_gpu_layers_actual"] == 0
        assert captured.err.count("this llama.cpp build has no GPU support") == 1


def test_a_model_that_fails_to_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = build_corrupt_variants(tmp_path)["truncated"]
    assert run(parse([str(broken), "-p", "16", "-n", "4", "-d", "0", "-r", "1", "--json"])) == 1
    captured = capsys.readouterr()
    [result] = json.loads(captured.out)["results"]
    assert result["error"] and result["pp_tps"] is None
    assert captured.err.count(result["error"]) == 1


def test_ctrl_c_stops_cleanly_keeping_what_was_measured(tiny_model: Path) -> None:
    argv = ["-p", "16", "-n", "2000", "-d", "0", "-b", "16,32", "-r", "3", "--json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "bench", str(tiny_model), *argv],
        env=dict(os.environ),  # HEARTH_HOME comes from the autouse fixture
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # progress: one line per repetition when not a terminal
            if "[1/2] repetition 2/3" in line:
                proc.send_signal(signal.SIGINT)
                break
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "stopped" in err and "Traceback" not in err
    payload = json.loads(out)
    assert payload["stopped"] is True
    [result] = payload["results"]  # the second configuration never started
    assert result["n_batch"] == 16 and 1 <= result["repetitions"] <= 2 and result["tg_tps"] > 0
    assert len(_stored()) == 1


def test_bad_lists_are_refused_by_the_parser() -> None:
    for argv in (["-fa", "2"], ["-t", "0"], ["-d", "x"]):
        with pytest.raises(SystemExit):
            parse(argv)
