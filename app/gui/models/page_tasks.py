"""Short blocking calls of the Models page (listing, scans, header reads, Hub calls), as tasks
(app/gui/tasks.py) with the page's callback style.

Threads: `PageTasks.run` is called in the GUI thread; `work` runs on a new thread and its result
(or exception, any kind: the page words each one itself) is handed to its callback back in the
GUI thread. After `close` (GUI thread), late results are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.gui.tasks import TaskRunner


class PageTasks(TaskRunner):
    def run(
        self,
        name: str,
        work: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        self.start(
            lambda _context: work(),
            name=f"models-{name}",
            expected=(Exception,),
            on_result=on_result,
            on_error=on_error,
        )

    def close(self, deadline: float) -> None:
        """Stop delivering and wait for the running calls until `deadline` (time.monotonic())."""
        self.shutdown(deadline)
