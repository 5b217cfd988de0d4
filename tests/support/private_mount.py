"""Run Python code with a small file system of its own mounted (a tmpfs in a private mount
namespace of an unprivileged user namespace), to meet a really full disk or a really
read-only folder without root and without touching the machine's own mounts."""

from __future__ import annotations

import os
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


def run_pytest_on_own_disk(
    mount_point: Path, scenarios: Path, *, env_name: str, size: str = "8m"
) -> str:
    """Run the tests of `scenarios` with pytest in a private mount namespace where a `size`
    tmpfs is mounted at `mount_point` (named to them in $`env_name`; they may mount more
    there). Returns pytest's output; fails with it when pytest fails. Skips where namespaces
    are not allowed."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        pytest.skip("needs Linux's unshare to mount a small private file system")
    allowed = subprocess.run([unshare, "-rm", "true"], capture_output=True, check=False)
    if allowed.returncode != 0:
        pytest.skip("this system does not allow unprivileged user and mount namespaces")
    mount_point.mkdir(parents=True, exist_ok=True)
    mount_and_run = f'mount -t tmpfs -o size={size} none "$0" && exec "$@"'
    done = subprocess.run(
        [unshare, "-rm", "sh", "-c", mount_and_run, str(mount_point), sys.executable, "-m",
         "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(scenarios)],
        cwd=REPO_ROOT,
        env={**os.environ, env_name: str(mount_point)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    return done.stdout
