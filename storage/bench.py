"""Stored `hearth bench` results: one record per configuration of a run, the figures of its
repetitions (mean and sample standard deviation) beside llama.cpp's own for the same runs, or
the one line saying why the configuration could not run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import select

from storage.database import Database
from storage.models import BenchResultRow, utc_now


@dataclass(frozen=True)
class BenchResultRecord:
    """Figures in tokens per second. `pp_tps`: n_prompt ÷ the prompt's wall-clock time in the
    engine; `tg_tps`: n_gen ÷ the generation's wall-clock time (definitions in
    inference.protocol.BenchDone); `llama_pp_tps`/`llama_tg_tps`: the same from llama.cpp's
    perf counters (n_p_eval ÷ t_p_eval, n_eval ÷ t_eval); each the mean over the repetitions.
    A failed configuration has `error` and no figures."""

    model: str
    model_path: str
    n_prompt: int
    n_gen: int
    depth: int
    n_gpu_layers: int  # requested; -1: all
    n_batch: int
    flash_attn: bool
    type_k: str
    type_v: str
    threads: int | None = None  # what llama.cpp used (None: never loaded, default asked)
    n_gpu_layers_actual: int | None = None  # what llama.cpp offloaded
    quantization: str | None = None
    backend: str = ""
    llama_cpp_version: str = ""
    repetitions: int = 0  # repetitions that finished
    pp_tps: float | None = None
    pp_tps_sd: float | None = None
    tg_tps: float | None = None
    tg_tps_sd: float | None = None
    llama_pp_tps: float | None = None
    llama_tg_tps: float | None = None
    error: str | None = None
    run_id: str = ""
    created_at: datetime | None = None
    id: int = 0  # set once stored

    @property
    def pp_ratio(self) -> float | None:
        """Hearth's prompt speed ÷ llama.cpp's for the same runs (1.0: no overhead)."""
        return _ratio(self.pp_tps, self.llama_pp_tps)

    @property
    def tg_ratio(self) -> float | None:
        """Hearth's generation speed ÷ llama.cpp's eval rate for the same runs."""
        return _ratio(self.tg_tps, self.llama_tg_tps)


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours and theirs else None


_COLUMNS = tuple(f.name for f in fields(BenchResultRecord) if f.name != "id")


def _record(row: BenchResultRow) -> BenchResultRecord:
    values = {name: getattr(row, name) for name in _COLUMNS}
    return BenchResultRecord(id=row.id, **values)


class BenchResultRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, records: Iterable[BenchResultRecord]) -> list[BenchResultRecord]:
        """Store the records (a missing created_at becomes now); returns them with their ids."""
        now = utc_now()
        stored: list[BenchResultRecord] = []
        with self._db.session() as session:
            rows = []
            for record in records:
                if record.created_at is None:
                    record = replace(record, created_at=now)
                row = BenchResultRow(**{name: getattr(record, name) for name in _COLUMNS})
                session.add(row)
                rows.append((row, record))
            session.flush()
            stored = [replace(record, id=row.id) for row, record in rows]
        return stored

    def list(
        self, *, model: str | None = None, run_id: str | None = None
    ) -> list[BenchResultRecord]:
        """Stored results, oldest first; only one model's or one run's when given."""
        query = select(BenchResultRow).order_by(BenchResultRow.id)
        if model is not None:
            query = query.where(BenchResultRow.model == model)
        if run_id is not None:
            query = query.where(BenchResultRow.run_id == run_id)
        with self._db.session() as session:
            return [_record(row) for row in session.scalars(query)]
