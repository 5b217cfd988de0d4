"""The command line takes the window and the chat exporter from the entry point (app/entry.py)
instead of importing app.gui: these tests hand it stand-ins and check what it does with them;
test_main.py runs the real entry point as a user does."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli.export_import import ExportFailed, ExportFormat
from app.cli.main import GuiParts, main
from app.config.paths import HearthPaths
from storage.database import Database


class _Window:
    def __init__(self) -> None:
        self.opened_with: list[HearthPaths] = []

    def __call__(self, paths: HearthPaths) -> int:
        self.opened_with.append(paths)
        return 7


class _Exporter:
    def __init__(self, failure: str = "") -> None:
        self.failure = failure
        self.calls: list[tuple[Path, ExportFormat | None, int | None]] = []

    def __call__(
        self, database: Database, out: Path, fmt: ExportFormat | None, conversation_id: int | None
    ) -> tuple[int, int]:
        self.calls.append((out, fmt, conversation_id))
        if self.failure:
            raise ExportFailed(self.failure)
        return 2, 5


@pytest.mark.parametrize("argv", [[], ["gui"]], ids=["no command", "gui"])
def test_the_window_gets_the_data_paths_and_its_exit_code_is_the_commands(
    argv: list[str], hearth_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # a display is there
    window = _Window()
    assert main(argv, gui=GuiParts(open_window=window, export_chats=_Exporter())) == 7
    (paths,) = window.opened_with
    assert paths.data_dir == hearth_home


def test_without_a_display_the_window_is_never_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    window = _Window()
    assert main([], gui=GuiParts(open_window=window, export_chats=_Exporter())) == 2
    assert window.opened_with == []


def test_export_hands_the_arguments_to_the_exporter_and_reports_its_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exporter = _Exporter()
    out = tmp_path / "chats.html"
    argv = ["export", "--format", "html", "--conversation", "3", str(out)]
    assert main(argv, gui=GuiParts(open_window=_Window(), export_chats=exporter)) == 0
    assert exporter.calls == [(out, "html", 3)]
    assert capsys.readouterr().out == (
        f"Exported 2 chat(s), 5 message(s) to {out}\nConversation ids: 3\n"
    )


def test_an_export_that_fails_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exporter = _Exporter(failure="Cannot write x.md: the disk is full.")
    gui = GuiParts(open_window=_Window(), export_chats=exporter)
    assert main(["export", str(tmp_path / "x.md")], gui=gui) == 1
    assert exporter.calls == [(tmp_path / "x.md", None, None)]
    assert capsys.readouterr().err == "hearth: error: Cannot write x.md: the disk is full.\n"
