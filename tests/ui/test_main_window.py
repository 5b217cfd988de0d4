from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from storage.records import Role
from tests.support.factories import make_conversation, make_message, make_stats
from ui.main_window import MODEL_LINE_SHARE, MainWindow


def make_window(qtbot: QtBot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # window shortcuts need an active window
    window.message_input.setFocus()
    return window


def test_layout_and_defaults(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    assert window.windowTitle() == "Hearth"
    assert (window.width(), window.height()) == (1100, 750)
    assert window.send_button.text() == "Send"
    assert not window.banner.isVisible()
    assert not window.load_progress.isVisible()
    for name in (
        "conversations",
        "chat_view",
        "message_input",
        "send_button",
        "live_stats",
        "model_label",
        "load_progress",
        "banner",
    ):
        assert getattr(window, name) is not None


def test_ctrl_n_requests_new_chat(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    with qtbot.waitSignal(window.newChatRequested):
        qtbot.keyClick(window.message_input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(window.newChatRequested):
        qtbot.mouseClick(window.conversations.new_button, Qt.MouseButton.LeftButton)


def test_enter_and_button_send_then_stop(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    qtbot.keyClicks(window.message_input, "What is 2+2?")
    with qtbot.waitSignal(window.sendRequested) as blocker:
        qtbot.keyClick(window.message_input, Qt.Key.Key_Return)
    assert blocker.args == ["What is 2+2?"]
    with qtbot.waitSignal(window.sendRequested):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)

    window.set_generating(True)
    assert window.send_button.text() == "Stop"
    with qtbot.waitSignal(window.stopRequested), qtbot.assertNotEmitted(window.sendRequested):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    window.set_generating(False)
    assert window.send_button.text() == "Send"


def test_escape_stops_once_from_input_and_from_transcript(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    stops: list[bool] = []
    window.stopRequested.connect(lambda: stops.append(True))
    qtbot.keyClick(window.message_input, Qt.Key.Key_Escape)
    assert len(stops) == 1
    window.chat_view.setFocus()
    qtbot.keyClick(window.chat_view, Qt.Key.Key_Escape)
    assert len(stops) == 2


def test_loading_progress(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.show_loading(None, "Loading model…")
    assert window.load_progress.isVisible()
    assert window.load_progress.maximum() == 0  # indeterminate
    window.show_loading(0.5, "Loading model…")
    assert window.load_progress.maximum() == 1000 and window.load_progress.value() == 500
    window.hide_loading()
    assert not window.load_progress.isVisible()


def test_banner_show_and_close(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.show_banner("<b>Tiny base model.</b> Answers will be rough.")
    assert window.banner.isVisible()
    assert "Tiny base model." in window.banner.label.text()
    qtbot.mouseClick(window.banner.close_button, Qt.MouseButton.LeftButton)
    assert not window.banner.isVisible()
    window.show_banner("again")
    window.hide_banner()
    assert not window.banner.isVisible()


def test_error_bar_is_inline_and_dismissible(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.show_error("The model could not be loaded: out of memory.")
    assert window.error_bar.isVisible()
    assert window.statusBar().currentMessage().startswith("The model could not be loaded")
    qtbot.mouseClick(window.error_bar.close_button, Qt.MouseButton.LeftButton)
    assert not window.error_bar.isVisible()


def test_delete_then_undo_with_button_and_ctrl_z(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.conversations.set_conversations([make_conversation(1, "a"), make_conversation(2, "b")])
    window.conversations.select(2)
    window.conversations.view.setFocus()
    with qtbot.waitSignal(window.deleteRequested) as blocker:
        qtbot.keyClick(window.conversations.view, Qt.Key.Key_Delete)
    assert blocker.args == [2]
    window.offer_undo("Chat deleted.")
    assert window.undo_bar.isVisible() and window.undo_bar.action_button.text() == "Undo"
    with qtbot.waitSignal(window.undoDeleteRequested):
        qtbot.keyClick(window.conversations.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not window.undo_bar.isVisible()
    # Once the bar is gone, Ctrl+Z does nothing.
    with qtbot.assertNotEmitted(window.undoDeleteRequested):
        qtbot.keyClick(window.conversations.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    window.offer_undo("Chat deleted.")
    with qtbot.waitSignal(window.undoDeleteRequested):
        qtbot.mouseClick(window.undo_bar.action_button, Qt.MouseButton.LeftButton)


def test_child_signals_are_forwarded(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.conversations.set_conversations([make_conversation(5, "chat")])
    with qtbot.waitSignal(window.conversationSelected) as blocker:
        rect = window.conversations.view.visualRect(window.conversations.model.index(0, 0))
        qtbot.mouseClick(
            window.conversations.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
        )
    assert blocker.args == [5]
    with qtbot.waitSignal(window.renameRequested) as blocker:
        window.conversations.renameRequested.emit(5, "new")
    assert blocker.args == [5, "new"]
    window.chat_view.set_messages([make_message(1, Role.ASSISTANT, "hi", stats=make_stats())])
    with qtbot.waitSignal(window.regenerateRequested) as blocker:
        window.chat_view.anchorClicked.emit(QUrl("hearth://regenerate/1"))
    assert blocker.args == [1]


def test_model_info_and_stats(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    window.set_model_info("Gemma 3 270m · Q4_K_M", "gemma (built-in)", "CPU")
    assert window.model_label.text() == "Gemma 3 270m · Q4_K_M · format: gemma (built-in) · CPU"
    window.live_stats.show_live(14.2, 310, 512, 4096)
    assert window.live_stats.isVisible()
    QApplication.processEvents()
    # Model name and a reply's full stats line are wider than the window: whole parts are
    # left out, inside the status bar, instead of running past its edge.
    window.resize(900, 600)
    window.show()
    window.live_stats.show_final(make_stats(), 151)
    window.model_label.setText("a-model-with-a-very-long-name-" * 3)
    qtbot.waitUntil(lambda: window.live_stats.shown_text() != window.live_stats.text())
    assert window.live_stats.shown_text().endswith("context 151 / 4096")
    bar = window.statusBar()
    for label in (window.model_label, window.live_stats):
        assert label.geometry().right() <= bar.width()


def _status_widgets_fit(window: MainWindow) -> None:
    """Every status-bar widget shown gets at least the width it cannot do without, and the
    ones that do not shorten their text get all they ask for."""
    bar = window.statusBar()
    for widget in (window.model_label, window.load_label, window.load_progress, window.live_stats):
        if not widget.isVisible():
            continue
        geometry = widget.geometry()
        assert geometry.left() >= 0 and geometry.right() <= bar.width(), widget
        assert geometry.width() >= widget.minimumSizeHint().width(), widget
    assert window.load_progress.isHidden() or (
        window.load_progress.width() >= window.load_progress.sizeHint().width()
    )


def test_at_the_default_size_the_status_bar_keeps_the_context_figure_whole(
    qtbot: QtBot,
) -> None:
    """At 1100×750 the status bar used to cut the model line and the stats line at both
    ends ("context 152…"); now less important parts go first, never the context figure,
    and the loading text sits beside its bar instead of overflowing it."""
    window = make_window(qtbot)
    assert (window.width(), window.height()) == (1100, 750)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1100 and hint.height() <= 750  # the default size fits its content

    window.show_loading(0.03, "Preparing the built-in model…")
    window.show_loading(0.45, "Loading Gemma 3 270m · Q4_K_M…")
    QApplication.processEvents()
    _status_widgets_fit(window)
    assert window.load_label.shown_text() == "Loading Gemma 3 270m · Q4_K_M…"
    assert window.load_progress.text() == "45%"
    window.hide_loading()

    window.set_model_info("Gemma 3 270m · Q4_K_M", "Gemma turns (built-in)", "CPU (no GPU offload)")
    window.live_stats.show_final(make_stats(), 152, 245.0)
    QApplication.processEvents()
    _status_widgets_fit(window)
    shown = window.live_stats.shown_text()
    assert shown.endswith("context 152 / 4096") and "…" not in shown
    assert shown.startswith("12.3 tok/s · TTFT 245 ms")  # the most important parts first
    assert window.model_label.shown_text().startswith("Gemma 3 270m · Q4_K_M")
    assert "…" not in window.model_label.shown_text()


def test_the_stats_get_the_room_the_model_line_does_not_use(qtbot: QtBot) -> None:
    """The model line and the stats had equal stretch: at 1100 px the stats left figures
    out beside room the model line could not use. Now the model line takes what its text
    needs (at most MODEL_LINE_SHARE of the window) and the stats the rest."""
    window = make_window(qtbot)
    window.show()
    window.set_model_info("Gemma 3 270m · Q4_K_M", "gemma (built-in)", "CPU")
    window.live_stats.show_final(make_stats(), 152)
    QApplication.processEvents()
    _status_widgets_fit(window)
    model, stats = window.model_label, window.live_stats
    assert model.shown_text() == model.text()  # the whole model line, nothing cut
    assert model.width() <= model.fontMetrics().horizontalAdvance(model.text()) + 4
    assert len(stats.shown_text().split(" · ")) >= 4  # half the bar held 3 figures
    assert stats.geometry().left() - model.geometry().right() < 20  # no room left unused

    # A model line longer than its share leaves out its last parts; the stats keep theirs.
    window.set_model_info("a-model-with-a-very-long-name-" * 2, "gemma (built-in)", "CPU")
    QApplication.processEvents()
    _status_widgets_fit(window)
    assert model.width() <= window.width() * MODEL_LINE_SHARE
    assert model.shown_text() == "a-model-with-a-very-long-name-" * 2
    assert len(stats.shown_text().split(" · ")) >= 4

    # A wider window: the model line's backend comes back when it fits (its share grows).
    window.set_model_info("Gemma 3 270m · Q4_K_M", "Gemma turns (built-in)", "CPU (no GPU offload)")
    window.resize(900, 750)
    QApplication.processEvents()
    assert "CPU (no GPU offload)" not in model.shown_text()
    window.resize(1400, 750)
    qtbot.waitUntil(lambda: model.shown_text() == model.text())
    _status_widgets_fit(window)


def test_escape_in_rename_editor_cancels_the_rename_not_the_reply(qtbot: QtBot) -> None:
    window = make_window(qtbot)
    conv = window.conversations
    conv.set_conversations([make_conversation(1, "Chat title")])
    conv.select(1)
    conv.view.setFocus()
    qtbot.keyClick(conv.view, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert editor is not None and editor is not conv.view
    qtbot.keyClicks(editor, "zzz")
    with (
        qtbot.assertNotEmitted(window.stopRequested),
        qtbot.assertNotEmitted(window.renameRequested),
    ):
        qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert conv.title_of(1) == "Chat title"


def test_pages_beside_chat_switch_with_ctrl_number(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLabel

    window = make_window(qtbot)
    page = QLabel("Documents page")
    assert window.add_page("Documents", page) == 1
    qtbot.keyClick(window.message_input, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentWidget() is page
    qtbot.keyClick(page, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentIndex() == 0


def test_f2_renames_the_current_chat_wherever_the_focus_is(qtbot: QtBot) -> None:
    """F2 used to work only with the sidebar focused; it acts on the chat on screen from the
    input, the transcript, or another page."""
    window = make_window(qtbot)
    window.conversations.set_conversations(
        [make_conversation(1, "One"), make_conversation(2, "Two")]
    )
    window.conversations.select(2)
    for focus in (window.message_input, window.chat_view):
        focus.setFocus()
        qtbot.waitUntil(focus.hasFocus)
        qtbot.keyClick(focus, Qt.Key.Key_F2)
        editor = QApplication.focusWidget()
        assert editor is not None and editor is not focus
        assert window.conversations.view.state() == window.conversations.view.State.EditingState
        editor.selectAll()  # type: ignore[attr-defined]
        qtbot.keyClicks(editor, "Renamed")
        with qtbot.waitSignal(window.renameRequested) as blocker:
            qtbot.keyClick(editor, Qt.Key.Key_Return)
        assert blocker.args == [2, "Renamed"]
        window.conversations.set_conversations(
            [make_conversation(1, "One"), make_conversation(2, "Two")]
        )
        window.conversations.select(2)
    window.pages.addTab(QWidget(), "Other")
    window.pages.setCurrentIndex(1)
    qtbot.keyClick(window.pages.currentWidget(), Qt.Key.Key_F2)
    assert window.pages.currentIndex() == 0  # back on Chat, renaming there
    assert window.conversations.view.state() == window.conversations.view.State.EditingState
