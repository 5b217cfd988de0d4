"""A disk that fills while a reply streams, for real: the scenarios in full_disk_scenarios.py
run in a private mount namespace (`unshare`) whose data folder is a 6 MiB tmpfs, the way
tests/app/models/test_hub.py fills a disk for downloads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
SCENARIOS = Path(__file__).with_name("full_disk_scenarios.py")


def test_a_reply_streaming_while_the_disk_fills_is_saved_in_full_once_space_returns(
    tmp_path: Path,
) -> None:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        pytest.skip("needs Linux's unshare to mount a small private filesystem")
    disk = tmp_path / "disk"
    disk.mkdir()
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o size=6m none "$0"', str(disk)],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    mount_and_run = 'mount -t tmpfs -o size=6m none "$0" && exec "$@"'
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", mount_and_run, str(disk), sys.executable, "-m",
         "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(SCENARIOS)],
        cwd=ROOT,
        env={**os.environ, "HEARTH_SMALL_DISK": str(disk)},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "3 passed" in result.stdout, report
