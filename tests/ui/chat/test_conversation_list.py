from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLineEdit
from pytestqt.qtbot import QtBot

from tests.support.factories import make_conversation
from ui.chat.conversation_list import ConversationList


def make_list(qtbot: QtBot) -> ConversationList:
    widget = ConversationList()
    qtbot.addWidget(widget)
    widget.resize(260, 400)
    widget.set_conversations(
        [
            make_conversation(3, "Newest chat"),
            make_conversation(2, "Middle chat"),
            make_conversation(1, "Oldest chat"),
        ]
    )
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def open_editor(widget: ConversationList) -> QLineEdit:
    assert widget.view.state() == QAbstractItemView.State.EditingState
    editor = widget.view.findChild(QLineEdit)
    assert editor is not None and editor.isVisible()
    return editor


def click_row(qtbot: QtBot, widget: ConversationList, row: int) -> None:
    rect = widget.view.visualRect(widget.model.index(row, 0))
    qtbot.mouseClick(widget.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_order_as_given_and_click_selects(qtbot: QtBot) -> None:
    widget = make_list(qtbot)
    titles = [widget.model.item(r).text() for r in range(widget.model.rowCount())]
    assert titles == ["Newest chat", "Middle chat", "Oldest chat"]
    with qtbot.waitSignal(widget.conversationSelected) as blocker:
        click_row(qtbot, widget, 1)
    assert blocker.args == [2]
    assert widget.current_id() == 2


def test_keyboard_navigation_selects(qtbot: QtBot) -> None:
    widget = make_list(qtbot)
    widget.select(3)
    widget.view.setFocus()
    with qtbot.waitSignal(widget.conversationSelected) as blocker:
        qtbot.keyClick(widget.view, Qt.Key.Key_Down)
    assert blocker.args == [2]


def test_programmatic_select_is_silent_and_survives_refresh(qtbot: QtBot) -> None:
    widget = make_list(qtbot)
    with qtbot.assertNotEmitted(widget.conversationSelected):
        widget.select(1)
        widget.set_conversations([make_conversation(4, "Brand new"), make_conversation(1, "Old")])
    assert widget.current_id() == 1
    widget.select(None)
    assert widget.current_id() is None


def test_new_chat_button(qtbot: QtBot) -> None:
    widget = make_list(qtbot)
    with qtbot.waitSignal(widget.newRequested):
        qtbot.mouseClick(widget.new_button, Qt.MouseButton.LeftButton)


def test_f2_renames_in_place(qtbot: QtBot) -> None:
    widget = make_list(qtbot)
    click_row(qtbot, widget, 0)
    qtbot.keyClick(widget.view, Qt.Key.Key_F2)
    editor = open_editor(widget)
    editor.selectAll()
    qtbot.keyClicks(editor, "Renamed chat")
    with qtbot.waitSignal(widget.renameRequested) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert blocker.args == [3, "Renamed chat"]


def test_double_click_rename_to_blank_is_refused(qtbot: QtBot) -> None:
    widget = make_list(qtbot)
    rect = widget.view.visualRect(widget.model.index(1, 0))
    qtbot.mouseClick(widget.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(widget.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    editor = open_editor(widget)
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    with qtbot.assertNotEmitted(widget.renameRequested):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert widget.title_of(2) == "Middle chat"


def test_delete_key_requests_delete(qtbot: QtBot) -> None:
    widget = make_list(qtbot)
    click_row(qtbot, widget, 2)
    with qtbot.waitSignal(widget.deleteRequested) as blocker:
        qtbot.keyClick(widget.view, Qt.Key.Key_Delete)
    assert blocker.args == [1]


def test_context_menu_delete_and_rename(qtbot: QtBot) -> None:
    widget = make_list(qtbot)
    click_row(qtbot, widget, 1)
    menu = widget.build_context_menu(2)
    actions = {a.text(): a for a in menu.actions()}
    assert set(actions) - {""} == {"Pin to top", "System prompt…", "Sampling…", "Rename", "Delete"}
    with qtbot.waitSignal(widget.pinRequested) as pinned:
        actions["Pin to top"].trigger()
    assert pinned.args == [2, True]
    with qtbot.waitSignal(widget.systemPromptRequested) as prompt:
        actions["System prompt…"].trigger()
    assert prompt.args == [2]
    with qtbot.waitSignal(widget.samplingRequested) as sampling:
        actions["Sampling…"].trigger()
    assert sampling.args == [2]
    with qtbot.waitSignal(widget.deleteRequested) as blocker:
        actions["Delete"].trigger()
    assert blocker.args == [2]
    actions["Rename"].trigger()
    open_editor(widget)
