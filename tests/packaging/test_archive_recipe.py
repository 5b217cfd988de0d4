"""The .tar.gz recipe (packaging/archive.py) carries the menu integration a user of the
tarball needs, checked without building the bundle: the recipe names the .desktop entry,
the SVG icon, the AppStream metainfo and install.sh; it packs them into a stand-in bundle
folder; and install.sh, run from that unpacked archive, installs an entry whose Exec is the
unpacked executable (issue 15). The real archive: test_bundle_smoke.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support.packaging_scripts import PACKAGING, load

archive = load("archive")
ROOT = PACKAGING.parent
APP_ID = "io.github.hearth.Hearth"
ENTRY = f"share/applications/{APP_ID}.desktop"
ICON = f"share/icons/hicolor/scalable/apps/{APP_ID}.svg"
METAINFO = f"share/metainfo/{APP_ID}.metainfo.xml"


def test_the_recipe_names_the_entry_icon_metainfo_and_install_script() -> None:
    by_destination = {destination: source for source, destination, _ in archive.EXTRAS}
    assert by_destination == {
        "install.sh": "packaging/install.sh",
        ENTRY: "packaging/hearth.desktop",
        ICON: "packaging/hearth.svg",
        METAINFO: f"packaging/{APP_ID}.metainfo.xml",
    }
    for source in by_destination.values():
        assert (ROOT / source).is_file(), source
    modes = {destination: mode for _, destination, mode in archive.EXTRAS}
    assert modes["install.sh"] & 0o111


def test_install_sh_copies_what_the_recipe_puts_beside_it() -> None:
    script = (PACKAGING / "install.sh").read_text(encoding="utf-8")
    for path in (ENTRY, ICON):
        templated = path.replace(APP_ID, "$APP_ID")
        assert f":-$HERE/{templated}}}" in script, path  # the default, beside the script


def test_the_metainfo_launches_the_entry_the_archive_installs() -> None:
    metainfo = (PACKAGING / f"{APP_ID}.metainfo.xml").read_text(encoding="utf-8")
    assert f'<launchable type="desktop-id">{APP_ID}.desktop</launchable>' in metainfo


def _stand_in_bundle(parent: Path) -> Path:
    """A folder shaped like PyInstaller's output: `hearth/hearth` (a script here)."""
    bundle = parent / "hearth"
    (bundle / "_internal").mkdir(parents=True)
    exe = bundle / "hearth"
    exe.write_text("#!/bin/sh\necho hearth 0.0\n", encoding="utf-8")
    exe.chmod(0o755)
    return bundle


def _unpack(tar_path: Path, into: Path) -> Path:
    into.mkdir()
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="tar")
    return into / "hearth"


def _install(folder: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # No XDG_DATA_HOME: the default, ~/.local/share, is what the README promises.
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    return subprocess.run(
        [str(folder / "install.sh"), *args],
        env={**env, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def _exec_of(entry: Path) -> tuple[list[str], str]:
    """Exec's arguments and TryExec, unescaped as the Desktop Entry spec says: the file's
    string escapes first (\\\\ is one backslash), then Exec's double quotes, inside which a
    backslash escapes " ` $ and itself."""
    lines = dict(
        line.split("=", 1) for line in entry.read_text(encoding="utf-8").splitlines() if "=" in line
    )
    exec_line = lines["Exec"].replace("\\\\", "\\")
    arguments = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', exec_line)
    unquoted = [re.sub(r'\\([\\"`$])', r"\1", q) if q else bare for q, bare in arguments]
    return unquoted, lines["TryExec"].replace("\\\\", "\\")


@pytest.mark.parametrize("folder_name", ["unpacked", "with space", "odd \"$`\\&|'chars"])
def test_the_packed_archive_installs_a_menu_entry_for_where_it_was_unpacked(
    tmp_path: Path, folder_name: str
) -> None:
    bundle = _stand_in_bundle(tmp_path / "dist")
    tar_path = tmp_path / "dist" / "hearth-0.0-linux-x86_64.tar.gz"
    archive.write_archive(bundle, tar_path)
    with tarfile.open(tar_path) as tar:
        names = set(tar.getnames())
        assert tar.getmember("hearth/install.sh").mode & 0o111
    assert {f"hearth/{d}" for _, d, _ in archive.EXTRAS} | {"hearth/hearth"} <= names
    assert not list((tmp_path / "dist").glob("*.partial"))

    unpacked = _unpack(tar_path, tmp_path / folder_name)
    home = tmp_path / "home"
    _install(unpacked, home)
    entry = home / ".local/share/applications" / f"{APP_ID}.desktop"
    icon = home / ".local/share/icons/hicolor/scalable/apps" / f"{APP_ID}.svg"
    exec_args, try_exec = _exec_of(entry)
    assert exec_args == [str(unpacked.resolve() / "hearth")]
    assert try_exec == str(unpacked.resolve() / "hearth")
    assert icon.read_bytes() == (PACKAGING / "hearth.svg").read_bytes()
    rest = [line for line in entry.read_text().splitlines() if "Exec=" not in line]
    original = (PACKAGING / "hearth.desktop").read_text().splitlines()
    assert rest == [line for line in original if "Exec=" not in line]
    if shutil.which("desktop-file-validate") and folder_name == "with space":
        subprocess.run(["desktop-file-validate", str(entry)], check=True)

    _install(unpacked, home, "--uninstall")
    assert not entry.exists() and not icon.exists()


def test_install_sh_refuses_a_folder_without_the_executable(tmp_path: Path) -> None:
    folder = tmp_path / "hearth"
    folder.mkdir()
    shutil.copy(PACKAGING / "install.sh", folder / "install.sh")
    result = subprocess.run(
        [str(folder / "install.sh")],
        env={**os.environ, "HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "No executable" in result.stderr
    assert not (tmp_path / "home").exists()


def test_a_bundle_folder_of_another_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be named"):
        archive.write_archive(tmp_path, tmp_path / "x.tar.gz")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
# Spaces, not the odd characters install.sh also handles: make itself expands $ in a value.
@pytest.mark.parametrize("exe_folder", ["bin", "with space"])
def test_make_install_desktop_writes_the_entry_as_the_archive_does(
    tmp_path: Path, exe_folder: str
) -> None:
    """`make install-desktop` (a checkout) runs install.sh: the same quoting of Exec, so a
    path with spaces launches (it used to write Exec unquoted)."""
    exe = tmp_path / exe_folder / "hearth"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n", encoding="utf-8")
    exe.chmod(0o755)
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    subprocess.run(
        ["make", "-s", "install-desktop", f"HEARTH_EXEC={exe}"],
        cwd=ROOT,
        env={**env, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    entry = home / ".local/share/applications" / f"{APP_ID}.desktop"
    exec_args, try_exec = _exec_of(entry)
    assert exec_args == [str(exe)] and try_exec == str(exe)
    icon = home / ".local/share/icons/hicolor/scalable/apps" / f"{APP_ID}.svg"
    assert icon.read_bytes() == (PACKAGING / "hearth.svg").read_bytes()


def test_make_install_desktop_without_an_executable_says_what_to_do(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("needs make")
    result = subprocess.run(
        ["make", "-s", "install-desktop", f"HEARTH_EXEC={tmp_path / 'missing'}"],
        cwd=ROOT,
        env={**os.environ, "HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "No executable" in result.stderr and "make setup" in result.stderr
