"""The task API (app/gui/tasks.py): results, errors and progress arrive in the GUI thread,
lanes keep submit order, cancel is cooperative, and shutdown waits with a deadline while the
event loop turns, dropping what arrives late."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from app.gui.tasks import TaskContext, TaskRunner, UnexpectedError, shutdown_all

WAIT_MS = 5000


@pytest.fixture
def runner() -> TaskRunner:
    return TaskRunner()


def test_the_result_and_progress_arrive_in_the_gui_thread(qtbot: QtBot, runner: TaskRunner) -> None:
    seen: list[tuple[str, object, bool]] = []
    gui = threading.current_thread()

    def note(kind: str) -> object:
        return lambda value=None: seen.append((kind, value, threading.current_thread() is gui))

    def work(context: TaskContext) -> int:
        context.report(1)
        context.report(2)
        return threading.get_ident()

    task = runner.start(
        work,
        name="test-result",
        on_progress=note("progress"),
        on_result=note("result"),
        on_finished=note("finished"),
    )
    qtbot.waitUntil(lambda: task.done, timeout=WAIT_MS)
    assert [(kind, on_gui) for kind, _value, on_gui in seen] == [
        ("progress", True),
        ("progress", True),
        ("result", True),
        ("finished", True),
    ]
    assert [value for _kind, value, _gui in seen[:2]] == [1, 2]
    assert seen[2][1] != threading.get_ident()  # the work ran on another thread
    assert not runner.busy()


def test_an_expected_error_reaches_on_error_as_it_is(qtbot: QtBot, runner: TaskRunner) -> None:
    errors: list[Exception] = []

    def work(_context: TaskContext) -> None:
        raise ValueError("The file is not a Hearth export.")

    task = runner.start(work, name="test-expected", expected=(ValueError,), on_error=errors.append)
    qtbot.waitUntil(lambda: task.done, timeout=WAIT_MS)
    assert [str(e) for e in errors] == ["The file is not a Hearth export."]
    assert isinstance(errors[0], ValueError)


def test_an_unexpected_exception_becomes_a_plain_message_and_is_logged(
    qtbot: QtBot, runner: TaskRunner, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[Exception] = []

    def work(_context: TaskContext) -> None:
        raise KeyError("chunk")

    with caplog.at_level(logging.ERROR, logger="app.gui.tasks"):
        task = runner.start(work, name="test-bug", on_error=errors.append)
        qtbot.waitUntil(lambda: task.done, timeout=WAIT_MS)
    assert len(errors) == 1
    assert isinstance(errors[0], UnexpectedError)
    assert str(errors[0]) == "Something went wrong: 'chunk'"
    assert isinstance(errors[0].__cause__, KeyError)
    assert any("test-bug failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_lane_runs_its_tasks_one_after_another_in_submit_order(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    running = threading.Lock()
    overlapped: list[int] = []
    order: list[int] = []
    results: list[int] = []
    first_may_end = threading.Event()

    def work_for(number: int):  # type: ignore[no-untyped-def]
        def work(_context: TaskContext) -> int:
            if not running.acquire(blocking=False):
                overlapped.append(number)
                return number
            try:
                if number == 0:
                    first_may_end.wait(WAIT_MS / 1000)  # the others are queued meanwhile
                order.append(number)
            finally:
                running.release()
            return number

        return work

    tasks = [
        runner.start(work_for(n), name=f"test-lane-{n}", lane="test", on_result=results.append)
        for n in range(5)
    ]
    first_may_end.set()
    qtbot.waitUntil(lambda: all(task.done for task in tasks), timeout=WAIT_MS)
    assert overlapped == []
    assert order == results == [0, 1, 2, 3, 4]


def test_a_report_after_cancel_raises_and_the_task_ends_cancelled(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    started, cancelled_seen = threading.Event(), []
    woken: list[bool] = []
    steps: list[int] = []

    def work(context: TaskContext) -> str:
        started.set()
        for step in range(1000):
            context.cancelled.wait(0.01)
            context.report(step)  # raises once cancelled
            steps.append(step)
        return "all done"

    task = runner.start(
        work,
        name="test-cancel",
        on_result=lambda _r: pytest.fail("a cancelled task has no result"),
        on_cancelled=lambda: cancelled_seen.append(True),
        on_cancel=lambda: woken.append(True),
    )
    assert started.wait(WAIT_MS / 1000)
    task.cancel()
    qtbot.waitUntil(lambda: task.done, timeout=WAIT_MS)
    assert cancelled_seen == [True]
    assert woken == [True]
    assert len(steps) < 1000


def test_shutdown_turns_the_event_loop_and_drops_late_results(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    # Like a job whose engine answer travels through the GUI thread: it can only end if
    # shutdown keeps the event loop turning.
    other = TaskRunner()
    answered = threading.Event()
    late: list[object] = []

    def work(context: TaskContext) -> str:
        other.start(lambda _c: None, name="test-answer", on_finished=answered.set)
        while not answered.wait(0.01):
            pass
        context.report("late progress")
        return "late result"

    runner.start(work, name="test-pumped", on_result=late.append, on_progress=late.append)
    assert runner.shutdown(time.monotonic() + WAIT_MS / 1000)
    QCoreApplication.processEvents()  # the thread posted its end before it ended: deliver it
    assert late == []
    assert answered.is_set()
    assert runner.start(lambda _c: None, name="test-after").cancelled.is_set()  # never runs


def test_shutdown_wakes_stuck_work_after_the_deadline(qtbot: QtBot, runner: TaskRunner) -> None:
    started, release = threading.Event(), threading.Event()
    queued_ran: list[bool] = []

    def stuck(_context: TaskContext) -> None:
        started.set()
        release.wait(WAIT_MS / 1000)  # ignores cancel, like a request the engine never answers

    runner.start(stuck, name="test-stuck", lane="test")
    runner.start(lambda _c: queued_ran.append(True), name="test-queued", lane="test")
    assert started.wait(WAIT_MS / 1000)
    assert runner.shutdown(time.monotonic() + 0.2, on_stuck=release.set)
    assert release.is_set()
    assert queued_ran == []  # queued tasks are dropped at shutdown


def test_shutdown_all_reports_work_that_did_not_end(qtbot: QtBot) -> None:
    runners = [TaskRunner(), TaskRunner()]
    release = threading.Event()
    runners[0].start(lambda _c: release.wait(WAIT_MS / 1000), name="test-stuck-a")
    runners[1].start(lambda _c: release.wait(WAIT_MS / 1000), name="test-stuck-b")
    assert not shutdown_all(runners, time.monotonic() + 0.1)
    release.set()
    assert shutdown_all(runners, time.monotonic() + WAIT_MS / 1000)
