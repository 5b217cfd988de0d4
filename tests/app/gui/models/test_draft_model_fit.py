"""The Models page's fit verdict counts the chosen draft model (issue 13): on a computer with
room for the model alone, choosing a draft model that does not fit beside it turns "CPU only"
into "won't fit", and choosing none turns it back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.config.paths import resolve_paths
from app.gui.models.controller import ModelsController
from app.models.fit import RAM_HEADROOM, estimate_memory
from app.models.gguf_layout import read_layout
from app.models.machine import MachineMemory
from tests.support.models_page import listed_row, wait_fit
from tests.support.tiny_gguf import build_tiny_model
from ui.models.page import ModelsPage

N_CTX = 1024


def test_a_draft_model_that_does_not_fit_beside_the_model_changes_the_verdict(
    make_app: Callable[..., tuple], qtbot: QtBot
) -> None:
    folder = resolve_paths().ensure().models_dir
    main = build_tiny_model(folder / "main-tiny.gguf")
    sibling = build_tiny_model(folder / "sibling.gguf", seed=5, n_layer=1, n_embd=32)
    alone = estimate_memory(read_layout(main), N_CTX, 0)
    both = estimate_memory(read_layout(main), N_CTX, 0, draft=read_layout(sibling))
    assert both.ram_bytes > alone.ram_bytes  # the draft's weights, KV cache and buffers
    # Room for the model alone and half of what the draft model adds.
    ram = alone.ram_bytes + RAM_HEADROOM + (both.ram_bytes - alone.ram_bytes) // 2
    window, chat, _database = make_app(main, n_ctx=N_CTX)
    page = ModelsPage()
    window.add_page("Models", page)
    controller = ModelsController(
        window, chat.session, chat.store, chat.paths, page, machine=MachineMemory(ram)
    )
    try:
        qtbot.waitUntil(lambda: listed_row(page, sibling) is not None)
        window.show_page(page)
        form = page.settings_form
        paths = [Path(r.path).resolve() for r in page.rows()]
        page.table.selectRow(paths.index(main.resolve()))
        assert wait_fit(qtbot, form).startswith("CPU only")
        combo = form.draft.combo
        index = next(
            i for i in range(combo.count()) if Path(str(combo.itemData(i))) == sibling.resolve()
        )
        combo.setCurrentIndex(index)
        qtbot.waitUntil(lambda: form.fit_label.text().startswith("Won't fit"))
        assert "The draft model adds" in form.breakdown_label.text()
        combo.setCurrentIndex(0)  # None
        qtbot.waitUntil(lambda: form.fit_label.text().startswith("CPU only"))
        assert "draft model" not in form.breakdown_label.text()
    finally:
        controller.shutdown()
