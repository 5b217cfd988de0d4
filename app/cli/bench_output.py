"""How `hearth bench` prints its records: a table (the default), one JSON object, or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from storage.bench import BenchResultRecord

# The per-configuration fields of --json and --csv, in this order.
FIELDS = (
    "n_prompt",
    "n_gen",
    "depth",
    "n_gpu_layers",
    "n_gpu_layers_actual",
    "threads",
    "n_batch",
    "flash_attn",
    "type_k",
    "type_v",
    "repetitions",
    "pp_tps",
    "pp_tps_sd",
    "tg_tps",
    "tg_tps_sd",
    "llama_pp_tps",
    "llama_tg_tps",
    "pp_ratio",
    "tg_ratio",
    "model",
    "model_path",
    "quantization",
    "backend",
    "llama_cpp_version",
    "error",
    "run_id",
    "created_at",
)


def result_json(record: BenchResultRecord) -> dict[str, Any]:
    values = asdict(record)
    values["pp_ratio"] = record.pp_ratio
    values["tg_ratio"] = record.tg_ratio
    created = record.created_at
    values["created_at"] = created.isoformat() if created is not None else None
    return {name: values[name] for name in FIELDS}


def as_json(
    records: Sequence[BenchResultRecord], run_id: str, notes: Sequence[str], stopped: bool
) -> str:
    """One object: the run's id, its notes and failure lines, whether Ctrl+C stopped it, and
    `results`, one entry per configuration with FIELDS."""
    payload = {
        "run_id": run_id,
        "notes": list(notes),
        "stopped": stopped,
        "results": [result_json(r) for r in records],
    }
    return json.dumps(payload, ensure_ascii=False)


def as_csv(records: Sequence[BenchResultRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if v is None else v for k, v in result_json(record).items()})
    return out.getvalue()


_HEADER = ("model", "backend", "ngl", "threads", "n_batch", "fa", "ctk/ctv", "test", "t/s")
_HEADER_TAIL = ("llama.cpp t/s", "ratio")
_TEXT_COLUMNS = (0, 1, 6, 7)  # model, backend, ctk/ctv, test: the rest are numbers


def as_table(records: Sequence[BenchResultRecord]) -> str:
    """llama-bench's table: one row per test (pp at a depth, tg at a depth), Hearth's mean ±
    standard deviation beside llama.cpp's own figure and their ratio. Failed configurations
    are left out (their line went to stderr)."""
    rows: list[tuple[str, ...]] = []
    for r in records:
        if r.error is not None:
            continue
        ngl = str(r.n_gpu_layers)
        if r.n_gpu_layers_actual is not None and r.n_gpu_layers_actual != r.n_gpu_layers:
            ngl += f" ({r.n_gpu_layers_actual})"
        common = (
            r.model,
            r.backend,
            ngl,
            "" if r.threads is None else str(r.threads),
            str(r.n_batch),
            str(int(r.flash_attn)),
            f"{r.type_k}/{r.type_v}",
        )
        depth = f" @ d{r.depth}" if r.depth else ""
        if r.n_prompt and r.pp_tps is not None:
            test = f"pp{r.n_prompt}{depth}"
            rows.append(
                (
                    *common,
                    test,
                    _tps(r.pp_tps, r.pp_tps_sd),
                    _num(r.llama_pp_tps),
                    _ratio(r.pp_ratio),
                )
            )
        if r.n_gen and r.tg_tps is not None:
            test = f"tg{r.n_gen}{depth}"
            rows.append(
                (
                    *common,
                    test,
                    _tps(r.tg_tps, r.tg_tps_sd),
                    _num(r.llama_tg_tps),
                    _ratio(r.tg_ratio),
                )
            )
    header = _HEADER + _HEADER_TAIL
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(header)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "| " + " | ".join("-" * w for w in widths) + " |",
    ]
    for row in rows:
        cells = [
            cell.ljust(width) if i in _TEXT_COLUMNS else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _tps(mean: float, sd: float | None) -> str:
    return f"{mean:.2f} ± {sd or 0.0:.2f}"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
