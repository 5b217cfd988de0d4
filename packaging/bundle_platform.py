"""What the bundle's spec does differently on Linux, Windows and macOS (issue 15).

packaging/hearth.spec loads this file by path (packaging/ is not an importable package: its
name is taken by the PyPI `packaging` library) and asks `platform_options(sys.platform, ...)`
what to build; tests/packaging/test_bundle_platform.py asks the same for all three systems,
so the decisions are tested here on Linux even though only the Linux bundle is built here.

- Linux: no icon in the executable (ELF files have none; the .desktop entry names the SVG).
- Windows: hearth.exe with the icon and a version resource (Explorer's Details tab).
- macOS: a Hearth.app (BUNDLE step) with the icon, the bundle identifier and the version in
  its Info.plist.

The icon is rendered from packaging/hearth.svg by Qt's QSvgRenderer into a PNG in the build
folder; PyInstaller turns a PNG into .ico / .icns itself, with Pillow (the `build` extra).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

APP_ID = "io.github.hearth.Hearth"  # the .desktop, AppStream and macOS bundle identifier
APP_NAME = "Hearth"
EXE_NAME = "hearth"  # PyInstaller adds .exe on Windows
ICON_PIXELS = 1024  # .icns holds up to 1024 px; Pillow scales down to .ico's 16-256 px
COMPANY = "The Hearth developers"  # as the AppStream file's <developer>
DESCRIPTION = "Chat with language models privately, on your own computer"


@dataclass(frozen=True)
class AppBundle:
    """macOS: the arguments of PyInstaller's BUNDLE()."""

    name: str
    bundle_identifier: str
    version: str  # Info.plist's CFBundleShortVersionString (PyInstaller sets it)
    info_plist: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PlatformOptions:
    system: str  # "linux", "windows" or "macos"
    exe_name: str
    console: bool  # a console executable: the CLI's output reaches the terminal
    icon_png: Path | None  # rendered by write_build_files; None where the executable has none
    version_file: Path | None  # Windows version resource (text), written by write_build_files
    app_bundle: AppBundle | None  # macOS only


def system_of(platform: str) -> str:
    """sys.platform's value as one of the three systems the spec knows; other Unix-likes
    (FreeBSD, ...) build like Linux."""
    if platform == "win32" or platform == "cygwin":
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def project_version(root: Path) -> str:
    """The version in pyproject.toml (the bundle is built from a checkout, not an install)."""
    with (root / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def platform_options(platform: str, version: str, build_dir: Path) -> PlatformOptions:
    """The spec's choices for `platform` (a sys.platform value); files go under
    `build_dir`, written by `write_build_files`."""
    system = system_of(platform)
    if system == "windows":
        # Console kept: `hearth chat ...` prints to the terminal it runs from; the cost is a
        # console window beside the app when started from the Start menu (README).
        return PlatformOptions(
            system,
            EXE_NAME,
            console=True,
            icon_png=build_dir / "hearth.png",
            version_file=build_dir / "version_info.txt",
            app_bundle=None,
        )
    if system == "macos":
        # A .app started from the Finder has no terminal; the executable inside it still
        # prints when run from one (Hearth.app/Contents/MacOS/hearth chat ...).
        plist: dict[str, object] = {
            "CFBundleName": APP_NAME,
            "CFBundleDisplayName": APP_NAME,
            "CFBundleVersion": version,
            "NSHighResolutionCapable": True,
            "NSRequiresAquaSystemAppearance": False,  # follow the system's dark mode
            "LSApplicationCategoryType": "public.app-category.productivity",
            "LSMinimumSystemVersion": "11.0",  # Qt 6.5+ needs macOS 11
        }
        return PlatformOptions(
            system,
            EXE_NAME,
            console=False,
            icon_png=build_dir / "hearth.png",
            version_file=None,
            app_bundle=AppBundle(f"{APP_NAME}.app", APP_ID, version, plist),
        )
    return PlatformOptions(
        system, EXE_NAME, console=True, icon_png=None, version_file=None, app_bundle=None
    )


def windows_version(version: str) -> tuple[int, int, int, int]:
    """The four numbers of a Windows version resource from a PEP 440 version: the release
    numbers, padded or cut to four ("0.1.0rc1" -> (0, 1, 0, 0))."""
    release = re.match(r"\d+(?:\.\d+)*", version)
    numbers = [int(n) for n in release.group().split(".")] if release else []
    numbers = [min(n, 0xFFFF) for n in numbers][:4]  # each is a 16-bit field
    return (*numbers, *[0] * (4 - len(numbers)))  # type: ignore[return-value]


def windows_version_text(version: str) -> str:
    """A version resource in the text form PyInstaller's EXE(version=FILE) reads (it evaluates
    it with PyInstaller.utils.win32.versioninfo's classes)."""
    numbers = windows_version(version)
    strings = {
        "CompanyName": COMPANY,
        "FileDescription": APP_NAME,
        "FileVersion": version,
        "InternalName": EXE_NAME,
        "OriginalFilename": f"{EXE_NAME}.exe",
        "ProductName": APP_NAME,
        "ProductVersion": version,
        "Comments": DESCRIPTION,
    }
    structs = ",\n          ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return (
        "VSVersionInfo(\n"
        f"  ffi=FixedFileInfo(filevers={numbers!r}, prodvers={numbers!r}, mask=0x3F, flags=0x0,\n"
        "                    OS=0x40004, fileType=0x1, subtype=0x0, date=(0, 0)),\n"
        "  kids=[\n"
        "    StringFileInfo([StringTable('040904B0', [\n"
        f"          {structs}])]),\n"
        "    VarFileInfo([VarStruct('Translation', [1033, 1200])]),\n"
        "  ],\n"
        ")\n"
    )


def write_build_files(options: PlatformOptions, svg: Path, version: str) -> None:
    """Render the icon and write the version resource that `options` names."""
    if options.icon_png is not None:
        render_icon(svg, options.icon_png, ICON_PIXELS)
    if options.version_file is not None:
        options.version_file.parent.mkdir(parents=True, exist_ok=True)
        options.version_file.write_text(windows_version_text(version), encoding="utf-8")


def render_icon(svg: Path, png: Path, pixels: int) -> None:
    """`svg` drawn on a transparent square of `pixels` and saved as PNG, by this file run as
    a script: the Qt application that painting needs lives and dies in that process, not in
    PyInstaller's (or a test session's, which has its own). Raises ValueError on failure."""
    png.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(svg), str(png), str(pixels)],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise ValueError(f"Could not render {svg} to {png}: {result.stderr.strip()}")


def _render(svg: Path, png: Path, pixels: int) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication([sys.argv[0]])  # QPainter needs one; offscreen needs no display
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"Qt cannot read the icon {svg}")
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(png), "PNG"):
        raise SystemExit(f"Qt could not write {png}")


if __name__ == "__main__":
    _render(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
