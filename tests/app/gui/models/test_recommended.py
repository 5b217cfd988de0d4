"""The Models page's Recommended tab (issue 15) on the real app: the list (injected, so the
fake hub on 127.0.0.1 can serve its file) with each model's fit on this computer, one click
that downloads from the fake hub, verifies the SHA-256 and switches the chat (the engine
loads the file), and the first-run notice's "Get a better model…" opening the tab."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.gui.chat.controller import ChatController
from app.gui.models.controller import ModelsController
from app.gui.models.recommended import GET_BETTER_MODEL
from app.models.default_model import DEFAULT_MODEL_NOTICE
from app.models.download import model_folder
from app.models.machine import GpuMemory, MachineMemory
from inference.gguf import human_size
from tests.support.fake_hub import FakeHub
from tests.support.model_hub import hub, isolated_home, tiny_bytes  # noqa: F401 (fixtures)
from ui.main_window import MainWindow
from ui.models.page import ModelsPage
from ui.models.recommended import RecommendedPanel

GIB = 1 << 30
REPO = "someone/Tiny-Instruct-GGUF"
FILE = "tiny-instruct-Q4_K_M.gguf"
KEY = f"{REPO}/{FILE}"
NO_GPU = MachineMemory(12 * GIB)
WITH_GPU = MachineMemory(12 * GIB, (GpuMemory("Test GPU", 8 * GIB, 8 * GIB),))

Models = tuple[MainWindow, ChatController, ModelsController]


def _entry(name: str, repo_id: str, filename: str, size: int) -> dict[str, object]:
    return {
        "name": name,
        "repo_id": repo_id,
        "filename": filename,
        "size_bytes": size,
        "parameters": "1M",
        "licence": "Apache-2.0",
        "licence_url": "https://www.apache.org/licenses/LICENSE-2.0",
        "context_length": 2048,
        "description": f"{name} for the tests.",
    }


@pytest.fixture
def recommended_list(tmp_path: Path, tiny_bytes: bytes) -> Path:  # noqa: F811
    """A small model the fake hub serves, then two that only exist for their fit."""
    path = tmp_path / "recommended.json"
    models = [
        _entry("Tiny Instruct", REPO, FILE, len(tiny_bytes)),
        _entry("Middle Instruct", "someone/Middle-GGUF", "middle-Q4_K_M.gguf", 10 * GIB),
        _entry("Huge Instruct", "someone/Huge-GGUF", "huge-Q4_K_M.gguf", 30 * GIB),
        {"name": "Damaged"},  # skipped, with a logged reason
    ]
    path.write_text(json.dumps({"version": 1, "models": models}), encoding="utf-8")
    return path


def _build(
    make_app: Callable[..., tuple],
    qtbot: QtBot,
    tiny_model: Path,
    machine: MachineMemory,
    recommended_list: Path,
) -> Iterator[Models]:
    window, chat, _database = make_app(tiny_model)
    page = ModelsPage()
    window.add_page("Models", page)
    controller = ModelsController(
        window,
        chat.session,
        chat.store,
        chat.paths,
        page,
        machine=machine,
        gpu_available=machine.best_gpu is not None,
        progress_interval=0,
        recommended_list=recommended_list,
    )
    qtbot.waitUntil(lambda: bool(page.rows()))
    yield window, chat, controller
    controller.shutdown()


@pytest.fixture
def models(
    make_app: Callable[..., tuple], qtbot: QtBot, tiny_model: Path, recommended_list: Path
) -> Iterator[Models]:
    yield from _build(make_app, qtbot, tiny_model, NO_GPU, recommended_list)


@pytest.fixture
def models_with_gpu(
    make_app: Callable[..., tuple], qtbot: QtBot, tiny_model: Path, recommended_list: Path
) -> Iterator[Models]:
    yield from _build(make_app, qtbot, tiny_model, WITH_GPU, recommended_list)


@pytest.fixture
def tiny_repo(hub: FakeHub, tiny_bytes: bytes) -> FakeHub:  # noqa: F811
    hub.add_repo(REPO)
    hub.add_file(REPO, FILE, tiny_bytes)
    hub.add_file(REPO, "tiny-instruct-Q8_0.gguf", tiny_bytes)
    return hub


def _panel(models: Models) -> RecommendedPanel:
    return models[2].page.recommended


def _wait_ended(qtbot: QtBot, panel: RecommendedPanel) -> str:
    """Wait until the download the last click started ends; what the panel says then."""
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=30_000)
    return panel.status_label.text()


def test_rows_show_size_licence_and_fit_on_a_computer_with_a_gpu(
    models_with_gpu: Models,
) -> None:
    panel = _panel(models_with_gpu)
    assert [r.name for r in panel.rows()] == ["Tiny Instruct", "Middle Instruct", "Huge Instruct"]
    assert panel.fit_text(KEY) == "fits on GPU"
    assert panel.fit_text("someone/Middle-GGUF/middle-Q4_K_M.gguf") == "partial GPU offload"
    assert panel.fit_text("someone/Huge-GGUF/huge-Q4_K_M.gguf") == "too large"
    assert panel.table.item(1, 2).text() == human_size(10 * GIB)
    assert panel.table.item(0, 3).text() == "Apache-2.0"
    button = panel.button(KEY)
    assert button is not None and button.text() == "Download and use"


def test_without_a_gpu_a_small_model_fits_in_ram(models: Models) -> None:
    panel = _panel(models)
    assert panel.fit_text(KEY) == "fits in RAM"
    assert panel.fit_text("someone/Huge-GGUF/huge-Q4_K_M.gguf") == "too large"
    assert "free RAM" in panel.table.item(0, 4).toolTip()


def test_one_click_downloads_verifies_and_switches_the_chat(
    models: Models,
    qtbot: QtBot,
    tiny_repo: FakeHub,
    tiny_bytes: bytes,  # noqa: F811
) -> None:
    _window, chat, _controller = models
    panel = _panel(models)
    button = panel.button(KEY)
    assert button is not None
    target = model_folder(resolve_paths().models_dir, REPO) / FILE
    with qtbot.waitSignal(chat.session.loaded, timeout=60_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert target.read_bytes() == tiny_bytes
    assert chat.session.info is not None
    assert Path(chat.session.info.path).resolve() == target.resolve()
    assert "installed and verified" in _wait_ended(qtbot, panel)
    # Only the chosen file came down, not the repository's other quantization.
    assert tiny_repo.file_requests(FILE) and not tiny_repo.file_requests("tiny-instruct-Q8_0.gguf")
    qtbot.waitUntil(lambda: panel.rows()[0].state == "in use")
    in_use = panel.button(KEY)
    assert in_use is not None and in_use.text() == "In use" and not in_use.isEnabled()


def test_a_download_that_does_not_match_the_hubs_sha256_is_refused(
    models: Models, qtbot: QtBot, tiny_repo: FakeHub, tiny_model: Path
) -> None:
    _window, chat, _controller = models
    panel = _panel(models)
    tiny_repo.corrupt.add(FILE)
    button = panel.button(KEY)
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    text = _wait_ended(qtbot, panel)
    assert "was not installed" in text and "SHA-256" in text
    assert not (model_folder(resolve_paths().models_dir, REPO) / FILE).exists()
    assert chat.session.info is not None
    assert Path(chat.session.info.path).resolve() == tiny_model.resolve()  # not switched
    assert panel.rows()[0].state == "available"


def test_the_first_run_notice_offers_a_better_model_and_opens_the_tab(
    models: Models, qtbot: QtBot
) -> None:
    window, _chat, controller = models
    window.show_page(window.pages.widget(0))
    window.show_banner(DEFAULT_MODEL_NOTICE)  # as the built-in model's first start does
    action = window.banner.action_button
    assert action.isVisible() and action.text() == GET_BETTER_MODEL
    qtbot.mouseClick(action, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is controller.page
    assert controller.page.tabs.currentWidget() is controller.page.recommended
    assert not window.banner.isVisible()
