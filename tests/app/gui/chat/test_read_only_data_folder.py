"""A data folder made read-only while the window runs, for real: the scenario in
read_only_scenarios.py runs in a private mount namespace (`unshare`, which lets root and
other users alike mount there) whose data folder is on a tmpfs of its own, made read-only by a
read-only bind mount over it (chmod stops neither root nor files already open)."""

from __future__ import annotations

from pathlib import Path

from tests.support.private_mount import run_pytest_on_own_disk

SCENARIOS = Path(__file__).with_name("read_only_scenarios.py")


def test_a_read_only_data_folder_is_said_plainly_loses_nothing_and_recovers(
    tmp_path: Path,
) -> None:
    result = run_pytest_on_own_disk(tmp_path / "disk", SCENARIOS, env_name="HEARTH_OWN_DISK")
    assert "1 passed" in result, result
