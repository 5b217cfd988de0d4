"""Stored `hearth bench` results (storage/bench.py, revision 0008)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect

from storage import migrate
from storage.bench import BenchResultRecord, BenchResultRepository
from storage.database import Database


def _result(**changes: object) -> BenchResultRecord:
    values: dict[str, object] = {
        "model": "tiny",
        "model_path": "/m/tiny.gguf",
        "n_prompt": 512,
        "n_gen": 128,
        "depth": 0,
        "n_gpu_layers": 0,
        "n_batch": 512,
        "flash_attn": False,
        "type_k": "f16",
        "type_v": "f16",
        "run_id": "run-1",
    }
    values.update(changes)
    return BenchResultRecord(**values)  # type: ignore[arg-type]


def test_results_and_failures_are_stored_and_read_back(db: Database) -> None:
    repository = BenchResultRepository(db)
    ok = _result(threads=4, repetitions=5, pp_tps=900.0, pp_tps_sd=9.0, tg_tps=48.0)
    ok = _result(**{**ok.__dict__, "tg_tps_sd": 0.5, "llama_pp_tps": 910.0, "llama_tg_tps": 50.0})
    failed = _result(depth=4096, type_v="q4_0", error="quantized V cache requires flash_attn")
    stored = repository.add([ok, failed])
    assert [r.id for r in stored] == [1, 2] and stored[0].created_at is not None

    [first, second] = repository.list(run_id="run-1")
    assert first == stored[0] and second == stored[1]
    assert first.tg_ratio == 48.0 / 50.0 and first.pp_ratio == 900.0 / 910.0
    assert second.pp_tps is None and second.tg_ratio is None and second.error
    assert repository.list(model="other") == []
    assert repository.list(model="tiny") == stored


def test_0008_downgrades_and_upgrades_again(db: Database, db_path: Path) -> None:
    BenchResultRepository(db).add([_result()])
    db.close()
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.begin() as connection:
            down = migrate.alembic_config(connection)
            command.downgrade(down, "-1")
        assert "bench_results" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            command.upgrade(migrate.alembic_config(connection), "head")
        assert "bench_results" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
