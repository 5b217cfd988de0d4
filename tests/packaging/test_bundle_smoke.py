"""The built bundle runs (issue 15): built only when asked, since a build takes minutes.

    HEARTH_BUNDLE_TEST=1 pytest tests/packaging -m bundle
builds the spec into a temporary folder; HEARTH_BUNDLE=dist/hearth/hearth tests a bundle
`make bundle` already built instead (and the .tar.gz beside it, when there is one; else the
archive is packed from the bundle by packaging/archive.py). The bundle runs with a fresh
HEARTH_HOME and an environment without PYTHONPATH, so it can only use what it carries.
Every command runs on the built-in model, with few tokens; the documents exercise the
libraries that read their own data files (trafilatura's HTML extraction, pypdfium2,
python-docx's template, lingua).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import psutil
import pytest

from tests.support.document_builders import make_docx, make_pdf
from tests.support.packaging_scripts import load

ROOT = Path(__file__).resolve().parent.parent.parent
WANTED = os.environ.get("HEARTH_BUNDLE_TEST") == "1" or bool(os.environ.get("HEARTH_BUNDLE"))

pytestmark = [
    pytest.mark.bundle,
    pytest.mark.slow,
    pytest.mark.skipif(not WANTED, reason="set HEARTH_BUNDLE_TEST=1 (or HEARTH_BUNDLE=path)"),
    pytest.mark.timeout(1200),
]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("HEARTH_BUNDLE")
    if given:
        return Path(given).resolve()
    out = tmp_path_factory.mktemp("bundle")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(out / "dist"),
            "--workpath",
            str(out / "build"),
            str(ROOT / "packaging" / "hearth.spec"),
        ],
        cwd=ROOT,
        check=True,
    )
    return out / "dist" / "hearth" / "hearth"


@pytest.fixture
def bundle_env(hearth_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return {**env, "HEARTH_HOME": str(hearth_home), "QT_QPA_PLATFORM": "offscreen"}


def _run(bundle: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bundle), *args], env=env, capture_output=True, text=True, timeout=600, cwd="/"
    )


def test_version_is_the_packages(bundle: Path, bundle_env: dict[str, str]) -> None:
    result = _run(bundle, bundle_env, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"hearth {metadata.version('hearth')}"


def test_chat_on_the_built_in_model(bundle: Path, bundle_env: dict[str, str]) -> None:
    result = _run(bundle, bundle_env, "chat", "Hello", "--max-tokens", "8", "--json")
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply["completion_tokens"] == 8 or reply["stop_reason"] != "length"


def test_summarize_reads_html_and_pdf(
    bundle: Path, bundle_env: dict[str, str], tmp_path: Path
) -> None:
    html = tmp_path / "page.html"
    html.write_text(
        "<html><head><title>Hearths</title></head><body><nav>Home | About</nav><article>"
        "<h1>The hearth</h1><p>A hearth is the place in a home where a fire is kept. For "
        "centuries it was where families cooked, talked and kept warm in winter.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    pdf = make_pdf(tmp_path / "page.pdf", ["A hearth keeps the fire of a home."])
    for document in (html, pdf):
        result = _run(bundle, bundle_env, "summarize", str(document), "--length", "10", "--json")
        assert result.returncode == 0, result.stderr


def test_translate_a_docx_detecting_its_language(
    bundle: Path, bundle_env: dict[str, str], tmp_path: Path
) -> None:
    source = make_docx(
        tmp_path / "note.docx",
        [("Normal", "The fire is warm tonight. We sit by it and talk until late.")],
    )
    result = _run(bundle, bundle_env, "translate", str(source), "--to", "fr", "--out")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "note.fr.docx").stat().st_size > 0


def _engine_of(gui: psutil.Process) -> psutil.Process | None:
    for child in gui.children(recursive=True):
        if "--multiprocessing-fork" in " ".join(child.cmdline()):
            return child
    return None


@pytest.fixture
def window(bundle: Path, bundle_env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [str(bundle)], env=bundle_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_the_window_starts_offscreen_and_leaves_no_engine(
    window: subprocess.Popen[bytes],
) -> None:
    """The window is up once its engine runs: run_window() shows it, then starts the chat,
    whose first act is loading the model in the engine process."""
    gui = psutil.Process(window.pid)
    deadline = time.monotonic() + 120
    engine = None
    while engine is None and window.poll() is None and time.monotonic() < deadline:
        engine = _engine_of(gui)
        time.sleep(0.05)
    assert engine is not None, window.stderr.read() if window.poll() is not None else "no engine"
    window.send_signal(signal.SIGTERM)
    window.wait(30)
    _, alive = psutil.wait_procs([engine], timeout=30)
    assert alive == []


@pytest.fixture(scope="module")
def bundle_archive(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .tar.gz `make bundle` wrote beside the bundle, else one packed from it now."""
    beside = bundle.parent.parent / (
        f"hearth-{metadata.version('hearth')}-linux-{platform.machine()}.tar.gz"
    )
    if beside.is_file():
        return beside
    packed = tmp_path_factory.mktemp("archive") / beside.name
    load("archive").write_archive(bundle.parent, packed)
    return packed


def test_the_archive_runs_unpacked_and_installs_its_menu_entry(
    bundle_archive: Path, bundle_env: dict[str, str], tmp_path: Path
) -> None:
    """Unpacked somewhere else entirely, the archive's hearth runs, and its install.sh puts
    the entry (Exec: that unpacked executable) and the icon in ~/.local/share."""
    where = tmp_path / "Apps folder"  # a space, as in many users' paths
    with tarfile.open(bundle_archive) as tar:
        tar.extractall(where, filter="tar")
    folder = where / "hearth"
    for name in (
        "install.sh",
        "share/applications/io.github.hearth.Hearth.desktop",
        "share/icons/hicolor/scalable/apps/io.github.hearth.Hearth.svg",
        "share/metainfo/io.github.hearth.Hearth.metainfo.xml",
    ):
        assert (folder / name).is_file(), name
    version = _run(folder / "hearth", bundle_env, "--version")
    assert version.returncode == 0, version.stderr
    home = tmp_path / "home"
    env = {k: v for k, v in bundle_env.items() if k != "XDG_DATA_HOME"}
    subprocess.run(
        [str(folder / "install.sh")], env={**env, "HOME": str(home)}, check=True, timeout=60
    )
    entry = home / ".local/share/applications/io.github.hearth.Hearth.desktop"
    assert f'Exec="{folder.resolve() / "hearth"}"' in entry.read_text(encoding="utf-8")
    assert (home / ".local/share/icons/hicolor/scalable/apps/io.github.hearth.Hearth.svg").is_file()
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(entry)], check=True)
    if shutil.which("appstreamcli"):
        metainfo = folder / "share/metainfo/io.github.hearth.Hearth.metainfo.xml"
        subprocess.run(["appstreamcli", "validate", "--no-net", str(metainfo)], check=True)
