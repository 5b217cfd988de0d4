"""CPU thread counts: the engine loads with one thread per physical core for decode and
every usable logical CPU for prefill unless the user set them, and says which it used."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.process import cpu_threads
from inference.process.cpu_threads import default_thread_counts, resolve_thread_counts
from inference.protocol import ModelInfo
from tests.support.engine_helpers import load


@pytest.fixture(autouse=True)
def real_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own defaults, not the suite's HEARTH_THREADS (set before any engine
    process starts, which inherits the environment)."""
    monkeypatch.delenv(cpu_threads.ENV_VAR, raising=False)


def test_the_engine_loads_with_the_default_thread_counts(
    engine: EngineProcess, tiny_model: Path
) -> None:
    info = load(engine, tiny_model, n_ctx=512)
    assert isinstance(info, ModelInfo)
    expected = default_thread_counts()
    # What llama.cpp's context really got, read back after the load.
    assert (info.n_threads, info.n_threads_batch) == (
        expected.n_threads,
        expected.n_threads_batch,
    )
    assert not info.n_threads_user_set and not info.n_threads_batch_user_set


def test_the_users_thread_counts_win(engine: EngineProcess, tiny_model: Path) -> None:
    info = load(engine, tiny_model, n_ctx=512, n_threads=3, n_threads_batch=1)
    assert isinstance(info, ModelInfo)
    assert (info.n_threads, info.n_threads_batch) == (3, 1)
    assert info.n_threads_user_set and info.n_threads_batch_user_set


def _fake_cpus(root: Path, siblings: dict[int, str]) -> None:
    for cpu, core in siblings.items():
        topology = root / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "thread_siblings_list").write_text(core + "\n")


@pytest.fixture
def no_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_threads, "_quota_cpus", lambda: None)


@pytest.mark.usefixtures("no_quota")
def test_decode_gets_one_thread_per_core_prefill_every_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four logical CPUs on two cores (SMT): 0 and 2 share a core, so do 1 and 3.
    _fake_cpus(tmp_path, {0: "0,2", 1: "1,3", 2: "0,2", 3: "1,3"})
    monkeypatch.setattr(cpu_threads, "_SYS_CPU", tmp_path)
    monkeypatch.setattr(cpu_threads, "_allowed_cpus", lambda: [0, 1, 2, 3])
    assert default_thread_counts() == cpu_threads.ThreadCounts(2, 4)
    # Pinned to both threads of one core: one decode thread, two for prefill.
    monkeypatch.setattr(cpu_threads, "_allowed_cpus", lambda: [0, 2])
    assert default_thread_counts() == cpu_threads.ThreadCounts(1, 2)


@pytest.mark.usefixtures("no_quota")
def test_cores_without_smt_each_get_a_decode_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ten cores without SMT: llama-cpp-python's own default would use five.
    _fake_cpus(tmp_path, {cpu: str(cpu) for cpu in range(10)})
    monkeypatch.setattr(cpu_threads, "_SYS_CPU", tmp_path)
    monkeypatch.setattr(cpu_threads, "_allowed_cpus", lambda: list(range(10)))
    assert default_thread_counts() == cpu_threads.ThreadCounts(10, 10)


@pytest.mark.usefixtures("no_quota")
def test_a_hybrid_cpus_efficiency_cores_get_no_decode_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two performance cores with SMT (CPUs 0-3) and four efficiency cores (CPUs 4-7).
    _fake_cpus(tmp_path, {0: "0-1", 1: "0-1", 2: "2-3", 3: "2-3", 4: "4", 5: "5", 6: "6", 7: "7"})
    atom = tmp_path / "cpu_atom_cpus"
    atom.write_text("4-7\n")
    monkeypatch.setattr(cpu_threads, "_SYS_CPU", tmp_path)
    monkeypatch.setattr(cpu_threads, "_ATOM_CPUS", atom)
    monkeypatch.setattr(cpu_threads, "_allowed_cpus", lambda: list(range(8)))
    assert default_thread_counts() == cpu_threads.ThreadCounts(2, 8)


def test_a_container_quota_caps_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_cpus(tmp_path, {cpu: str(cpu) for cpu in range(8)})
    monkeypatch.setattr(cpu_threads, "_SYS_CPU", tmp_path)
    monkeypatch.setattr(cpu_threads, "_allowed_cpus", lambda: list(range(8)))
    monkeypatch.setattr(cpu_threads, "_quota_cpus", lambda: 3)
    assert default_thread_counts() == cpu_threads.ThreadCounts(3, 3)


def test_set_values_win_and_zero_means_automatic() -> None:
    defaults = default_thread_counts()
    assert resolve_thread_counts(5, None) == cpu_threads.ThreadCounts(5, defaults.n_threads_batch)
    assert resolve_thread_counts(0, 7) == cpu_threads.ThreadCounts(defaults.n_threads, 7)


def test_hearth_threads_replaces_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cpu_threads.ENV_VAR, "3")
    assert default_thread_counts() == cpu_threads.ThreadCounts(3, 3)
    monkeypatch.setenv(cpu_threads.ENV_VAR, "2,6")
    assert default_thread_counts() == cpu_threads.ThreadCounts(2, 6)
    assert resolve_thread_counts(4, None) == cpu_threads.ThreadCounts(4, 6)  # settings win
    monkeypatch.setenv(cpu_threads.ENV_VAR, "many")
    assert cpu_threads.env_thread_counts() is None
