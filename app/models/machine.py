"""How much memory this machine has: RAM from psutil (a dependency), VRAM from
`nvidia-smi` when it exists. Detection never raises; a missing tool means "no GPU found"."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import psutil

MIB = 1 << 20


@dataclass(frozen=True)
class GpuMemory:
    name: str
    total_bytes: int
    free_bytes: int


@dataclass(frozen=True)
class MachineMemory:
    ram_available_bytes: int
    gpus: tuple[GpuMemory, ...] = ()

    @property
    def best_gpu(self) -> GpuMemory | None:
        """llama.cpp puts a single-GPU load on the main device; pick the one with most room."""
        return max(self.gpus, key=lambda g: g.free_bytes, default=None)


def detect_machine() -> MachineMemory:
    return MachineMemory(_ram_available(), _nvidia_gpus())


def _ram_available() -> int:
    return int(psutil.virtual_memory().available)


def _nvidia_gpus() -> tuple[GpuMemory, ...]:
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return ()
    try:
        result = subprocess.run(
            [tool, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    return parse_nvidia_smi(result.stdout)


def parse_nvidia_smi(output: str) -> tuple[GpuMemory, ...]:
    """Parse `name, total MiB, free MiB` lines; malformed lines are skipped."""
    gpus = []
    for line in output.splitlines():
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) != 3:
            continue
        try:
            gpus.append(GpuMemory(parts[0], int(parts[1]) * MIB, int(parts[2]) * MIB))
        except ValueError:
            continue
    return tuple(gpus)


def physical_cores() -> int | None:
    """Physical CPU cores (None where the platform does not say): decode threads beyond them
    slow llama.cpp down (app.chat.slowness)."""
    try:
        cores = psutil.cpu_count(logical=False)
    except (OSError, RuntimeError):
        return None
    return int(cores) if cores else None


def swapped_in_bytes() -> int | None:
    """Bytes read back from swap since boot (psutil's `sin`), for a before/after difference
    around a reply; None where it cannot be read. Windows always reports 0 (psutil documents
    it), so there a reply never looks like it swapped."""
    try:
        return int(psutil.swap_memory().sin)
    except (OSError, RuntimeError):
        return None


@dataclass(frozen=True)
class SwapCounter:
    """The swap-in counter at the start of something (Enter pressed), to tell afterwards how
    much the machine read back from swap meanwhile (app.chat.trace_marks.SWAP_IN)."""

    at_start: int | None

    @classmethod
    def start(cls) -> SwapCounter:
        return cls(swapped_in_bytes())

    def since_start(self) -> int | None:
        """Bytes swapped in since `start`; None when the counter could not be read."""
        now = swapped_in_bytes()
        if self.at_start is None or now is None:
            return None
        return max(0, now - self.at_start)
