"""The spec's per-system decisions (packaging/bundle_platform.py), for Linux, Windows and
macOS, executed here without PyInstaller building: only the Linux bundle is built on this
machine, so this is how far the other two are checked (issue 15)."""

from __future__ import annotations

import ast
import plistlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image  # in the dev environment through fpdf2; the build extra names it

from tests.support.packaging_scripts import PACKAGING, load

platform = load("bundle_platform")
ROOT = PACKAGING.parent
SYSTEMS = {"linux": "linux", "win32": "windows", "darwin": "macos", "freebsd14": "linux"}


@pytest.mark.parametrize(("sys_platform", "system"), SYSTEMS.items())
def test_each_sys_platform_builds_as_one_of_three_systems(sys_platform: str, system: str) -> None:
    options = platform.platform_options(sys_platform, "0.1.0", Path("/build"))
    assert options.system == system
    assert options.exe_name == "hearth"


def test_linux_has_no_icon_version_resource_or_app_bundle() -> None:
    options = platform.platform_options("linux", "0.1.0", Path("/build"))
    assert (options.icon_png, options.version_file, options.app_bundle) == (None, None, None)
    assert options.console  # the CLI's output reaches the terminal


def test_windows_has_an_icon_and_a_version_resource_and_keeps_its_console() -> None:
    options = platform.platform_options("win32", "0.1.0", Path("/build"))
    assert options.icon_png == Path("/build/hearth.png")
    assert options.version_file == Path("/build/version_info.txt")
    assert options.app_bundle is None
    assert options.console


def test_macos_builds_an_app_with_the_appstream_id_and_the_version() -> None:
    options = platform.platform_options("darwin", "1.2.3", Path("/build"))
    bundle = options.app_bundle
    assert bundle is not None and options.icon_png is not None
    assert bundle.name == "Hearth.app"
    assert bundle.bundle_identifier == "io.github.hearth.Hearth"
    assert (PACKAGING / f"{bundle.bundle_identifier}.metainfo.xml").is_file()
    assert bundle.version == "1.2.3"
    assert bundle.info_plist["CFBundleVersion"] == "1.2.3"
    plistlib.dumps(bundle.info_plist)  # PyInstaller writes it with plistlib: must serialize
    assert not options.console  # a .app has no terminal


@pytest.mark.parametrize(
    ("version", "numbers"),
    [
        ("0.1.0", (0, 1, 0, 0)),
        ("2.10", (2, 10, 0, 0)),
        ("1.2.3.4.5", (1, 2, 3, 4)),
        ("0.2.0rc1", (0, 2, 0, 0)),
        ("1.0.dev3", (1, 0, 0, 0)),
        ("70000.1", (65535, 1, 0, 0)),
    ],
)
def test_windows_version_numbers_are_four_16_bit_release_numbers(
    version: str, numbers: tuple[int, ...]
) -> None:
    assert platform.windows_version(version) == numbers


def _evaluated(text: str) -> Any:
    """The version resource text evaluated as PyInstaller does (eval with versioninfo's
    classes in scope), each class standing in as a recorder of its arguments: versioninfo
    itself imports pefile, which is not installed on Linux."""

    def recorder(name: str) -> Any:
        return lambda *args, **kwargs: (name, args, kwargs)

    names = ["VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable"]
    names += ["StringStruct", "VarFileInfo", "VarStruct"]
    ast.parse(text, mode="eval")
    return eval(
        text, {name: recorder(name) for name in names}
    )  # our own text, as PyInstaller evals it


def test_the_windows_version_resource_names_the_version() -> None:
    name, _, fields = _evaluated(platform.windows_version_text("0.3.1"))
    assert name == "VSVersionInfo"
    _, _, fixed = fields["ffi"]
    assert fixed["filevers"] == fixed["prodvers"] == (0, 3, 1, 0)
    string_file_info = fields["kids"][0]
    (table,) = string_file_info[1][0]
    strings = dict(struct[1] for struct in table[1][1])
    assert strings["ProductVersion"] == strings["FileVersion"] == "0.3.1"
    assert strings["OriginalFilename"] == "hearth.exe"


def test_the_version_comes_from_pyproject() -> None:
    import tomllib

    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert platform.project_version(ROOT) == expected


@pytest.mark.parametrize("sys_platform", ["win32", "darwin"])
def test_build_files_are_written_and_the_icon_converts_as_pyinstaller_converts_it(
    sys_platform: str, tmp_path: Path
) -> None:
    """The PNG is rendered from the SVG by Qt, and Pillow (the `build` extra) turns it into
    the format PyInstaller needs, as PyInstaller's normalize_icon_type does (Image.save)."""
    options = platform.platform_options(sys_platform, "0.1.0", tmp_path)
    platform.write_build_files(options, PACKAGING / "hearth.svg", "0.1.0")
    with Image.open(options.icon_png) as image:
        assert image.format == "PNG"
        assert image.size == (platform.ICON_PIXELS, platform.ICON_PIXELS)
        assert image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0  # transparent corner: the SVG has no background
        centre = image.getpixel((image.width // 2, image.height // 2))
        assert centre[3] == 255  # and the flame is drawn
        converted = tmp_path / ("hearth.ico" if sys_platform == "win32" else "hearth.icns")
        image.save(converted)
    with Image.open(converted) as icon:
        assert icon.format == ("ICO" if sys_platform == "win32" else "ICNS")
    if sys_platform == "win32":
        assert options.version_file.read_text(encoding="utf-8").startswith("VSVersionInfo(")


def test_linux_writes_nothing(tmp_path: Path) -> None:
    options = platform.platform_options("linux", "0.1.0", tmp_path / "build")
    platform.write_build_files(options, PACKAGING / "hearth.svg", "0.1.0")
    assert not (tmp_path / "build").exists()


def test_an_unreadable_svg_is_a_plain_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.svg"
    broken.write_text("<svg", encoding="utf-8")
    with pytest.raises(ValueError, match="Could not render"):
        platform.render_icon(broken, tmp_path / "out.png", 64)


def test_the_spec_asks_these_decisions_and_branches_on_sys_platform() -> None:
    """The spec (not executable without PyInstaller) uses every option it is given."""
    spec = (PACKAGING / "hearth.spec").read_text(encoding="utf-8")
    assert "platform_options(\n    sys.platform" in spec or "platform_options(sys.platform" in spec
    for used in ("options.console", "options.icon_png", "options.version_file"):
        assert used in spec
    for argument in ("bundle_identifier=", "info_plist=", "version=options.app_bundle.version"):
        assert argument in spec
    assert "BUNDLE(" in spec
