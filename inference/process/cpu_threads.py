"""How many CPU threads llama.cpp gets when the user has not said: one definition, read by
the engine when it loads a model and by the app when it shows what "Automatic" means.

Decode (one token at a time) is bound by memory bandwidth and by the slowest thread of each
step: a thread per physical core is fastest, and a second thread on a core's SMT sibling
only makes both wait for each other. Prefill (a batch of tokens) is compute bound, so it
gets every logical CPU. llama-cpp-python's own default, half the logical CPUs, is one
thread on a 2-vCPU virtual machine (half its speed) and five of ten cores on a CPU without
SMT; llama.cpp's own default for decode is the physical core count, as here.

Both counts are limited to the CPUs this process may run on (affinity, and a container's
CPU quota): a thread for a CPU it cannot have only waits for a turn.

HEARTH_THREADS="N" or "N,M" replaces the defaults (decode N, prefill M or N) for a machine
shared with other busy work: there each step of a multi-threaded decode waits for all its
threads to be scheduled (the test suite sets it to 1; its tiny models gain nothing from more).
No llama_cpp import.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import psutil

_SYS_CPU = Path("/sys/devices/system/cpu")
# Intel hybrid CPUs list their efficiency cores here (Linux 5.13+).
_ATOM_CPUS = Path("/sys/devices/cpu_atom/cpus")


@dataclass(frozen=True)
class ThreadCounts:
    """Threads for decode (`n_threads`) and prefill (`n_threads_batch`)."""

    n_threads: int
    n_threads_batch: int


def _allowed_cpus() -> list[int] | None:
    """Ids of the logical CPUs this process may run on (None where the OS cannot say)."""
    getter = getattr(os, "sched_getaffinity", None)
    if getter is None:
        return None
    try:
        return sorted(getter(0))
    except OSError:
        return None


def _quota_cpus() -> int | None:
    """A container's CPU limit (cgroup v2 `cpu.max`, or v1's quota/period), rounded up."""
    candidates = (
        (Path("/sys/fs/cgroup/cpu.max"), None),
        (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")),
    )
    for quota_file, period_file in candidates:
        try:
            if period_file is None:
                quota, period = quota_file.read_text().split()[:2]
            else:
                quota, period = quota_file.read_text().strip(), period_file.read_text().strip()
        except (OSError, ValueError):
            continue
        if quota in ("max", "-1"):
            return None
        try:
            return max(1, math.ceil(int(quota) / int(period)))
        except (ValueError, ZeroDivisionError):
            return None
    return None


def usable_cpus() -> int:
    """Logical CPUs this process can really use at once."""
    allowed = _allowed_cpus()
    count = len(allowed) if allowed else (os.cpu_count() or 1)
    quota = _quota_cpus()
    return max(1, min(count, quota) if quota else count)


def _parse_cpu_list(text: str) -> set[int]:
    """ "0-3,8,10-11" -> {0, 1, 2, 3, 8, 10, 11}."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def _efficiency_cpus() -> set[int]:
    try:
        return _parse_cpu_list(_ATOM_CPUS.read_text())
    except (OSError, ValueError):
        return set()


def _cores_from_sysfs(cpus: list[int]) -> int | None:
    """Physical cores among `cpus` (Linux): CPUs that share a core list their siblings alike."""
    cores: set[str] = set()
    for cpu in cpus:
        topology = _SYS_CPU / f"cpu{cpu}" / "topology"
        for name in ("core_cpus_list", "thread_siblings_list"):
            try:
                cores.add(f"{(topology / name).read_text().strip()}")
                break
            except OSError:
                continue
        else:
            return None
    return len(cores) or None


def physical_cores() -> int:
    """Physical cores this process may use; on Linux counted among its allowed CPUs (a
    process pinned to both threads of one core gets one) and, on a hybrid CPU, among its
    performance cores only (as llama.cpp does: each decode step waits for its slowest
    thread), elsewhere psutil's machine-wide count. Where neither answers, llama.cpp's own
    guess: all CPUs up to four, else half."""
    allowed = _allowed_cpus()
    if allowed:
        performance = [cpu for cpu in allowed if cpu not in _efficiency_cpus()]
        allowed = performance or allowed
    cores = _cores_from_sysfs(allowed) if allowed else None
    if cores is None:
        cores = psutil.cpu_count(logical=False)  # None where the platform does not say
    if not cores:
        logical = os.cpu_count() or 1
        cores = logical if logical <= 4 else logical // 2
    return cores


ENV_VAR = "HEARTH_THREADS"


def env_thread_counts() -> ThreadCounts | None:
    """The counts HEARTH_THREADS sets ("N" or "N,M"); None when unset or not understood."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return None
    try:
        values = [int(part) for part in raw.split(",")]
    except ValueError:
        return None
    if not 1 <= len(values) <= 2 or min(values) < 1:
        return None
    return ThreadCounts(values[0], values[-1])


def default_thread_counts() -> ThreadCounts:
    """What "automatic" means: HEARTH_THREADS if set, else physical cores for decode and
    every usable CPU for prefill."""
    override = env_thread_counts()
    if override is not None:
        return override
    usable = usable_cpus()
    return ThreadCounts(n_threads=max(1, min(physical_cores(), usable)), n_threads_batch=usable)


def resolve_thread_counts(n_threads: int | None, n_threads_batch: int | None) -> ThreadCounts:
    """The user's values where set (a positive count), the defaults elsewhere."""
    defaults = default_thread_counts()
    return ThreadCounts(
        n_threads=n_threads if n_threads and n_threads > 0 else defaults.n_threads,
        n_threads_batch=n_threads_batch
        if n_threads_batch and n_threads_batch > 0
        else defaults.n_threads_batch,
    )
