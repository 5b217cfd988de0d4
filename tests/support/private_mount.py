"""Run Python code with a small file system of its own mounted (a tmpfs in a private mount
namespace of an unprivileged user namespace), to meet a really full disk or a really
read-only folder without root and without touching the machine's own mounts."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_on_own_disk(mount_point: Path, code: str, *, size: str = "1m") -> str:
    """Mount a `size` tmpfs at `mount_point`, run `code` with `python -c` (its argv[1] is
    the mount point) and return its stdout. Skips where namespaces are not allowed."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs util-linux's unshare to mount a small private file system")
    allowed = subprocess.run([unshare, "-Urm", "true"], capture_output=True, check=False)
    if allowed.returncode != 0:
        pytest.skip("this system does not allow unprivileged user and mount namespaces")
    mount_point.mkdir(parents=True, exist_ok=True)
    command = (
        f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(mount_point))} && "
        f"PYTHONPATH={shlex.quote(str(REPO_ROOT))} exec {shlex.quote(sys.executable)} "
        f"-c {shlex.quote(code)} {shlex.quote(str(mount_point))}"
    )
    done = subprocess.run(
        [unshare, "-Urm", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
