"""The Linux .tar.gz of the bundle (issue 15), with what a user of the tarball needs for menu
integration: the .desktop entry, the SVG icon, the AppStream metainfo and install.sh, which
puts the entry and icon in ~/.local/share with Exec pointing at the unpacked folder.

    python packaging/archive.py dist/hearth dist/hearth-VERSION-linux-ARCH.tar.gz

(`make bundle` runs it.) The files are first copied into the bundle folder itself, so
dist/hearth/install.sh works before packing too; the archive holds that one folder, `hearth/`:

    hearth/hearth                 the executable (and hearth/_internal/, PyInstaller's)
    hearth/install.sh             ./install.sh, or ./install.sh --uninstall
    hearth/share/applications/io.github.hearth.Hearth.desktop
    hearth/share/icons/hicolor/scalable/apps/io.github.hearth.Hearth.svg
    hearth/share/metainfo/io.github.hearth.Hearth.metainfo.xml

tests/packaging/test_archive_recipe.py checks EXTRAS against the files and install.sh without
building; the opt-in smoke test checks a real archive.
"""

from __future__ import annotations

import shutil
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "io.github.hearth.Hearth"
TOP = "hearth"  # the archive's one folder, as PyInstaller's COLLECT(name=...) names it

# (source in the checkout, destination inside the bundle folder, file mode)
EXTRAS = [
    ("packaging/install.sh", "install.sh", 0o755),
    ("packaging/hearth.desktop", f"share/applications/{APP_ID}.desktop", 0o644),
    ("packaging/hearth.svg", f"share/icons/hicolor/scalable/apps/{APP_ID}.svg", 0o644),
    (f"packaging/{APP_ID}.metainfo.xml", f"share/metainfo/{APP_ID}.metainfo.xml", 0o644),
]
GZIP_LEVEL = 6  # gzip's and tar -z's default: level 9 takes far longer for ~1% less


def add_extras(bundle: Path) -> list[Path]:
    """Copy EXTRAS into the bundle folder; returns the files written."""
    written = []
    for source, destination, mode in EXTRAS:
        target = bundle / destination
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / source, target)
        target.chmod(mode)
        written.append(target)
    return written


def write_archive(bundle: Path, archive: Path) -> None:
    """`bundle` (a folder named TOP, EXTRAS added) packed as `archive` (.tar.gz)."""
    if bundle.name != TOP:
        raise ValueError(f"the bundle folder must be named {TOP!r}: {bundle}")
    add_extras(bundle)
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=GZIP_LEVEL) as tar:
        tar.add(bundle, arcname=TOP)
    partial.replace(archive)  # never leave a half-written archive under the final name


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    write_archive(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
