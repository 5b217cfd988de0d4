"""What a theme change costs the chat transcript: every shown message rendered again.

Run: .venv/bin/python bench/theme_rerender.py [--messages 100] [--repeats 7]

Two figures, timed alternately in the same run on the same ChatView (offscreen unless a
display is there), each from the call until the event loop has handled what it posted:
- open: `set_messages(chat)`, showing the chat's newest page (PAGE_SIZE messages at most),
  the baseline: what opening the chat again costs, which a theme change used to need;
- recolour: `rerender()` after the palette flag flips, as a Settings theme change triggers
  (ui/chat/view_theme.py), every shown message rendered again in place.
Each assistant message holds a highlighted code block and some Markdown. Prints the median,
min and max of each and the ratio of the medians; never asserts (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

if "DISPLAY" not in os.environ and "WAYLAND_DISPLAY" not in os.environ:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication

from storage.records import Role
from tests.support.factories import make_message
from ui.chat.view import ChatView

CODE = "```python\ndef area(r):\n    # the area of a circle, roughly\n    return 3 * r * r\n```"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    view = ChatView()
    view.resize(900, 700)
    view.show()
    chat = [
        make_message(i, Role.USER, f"question {i}")
        if i % 2
        else make_message(i, Role.ASSISTANT, f"Answer {i}, with **bold** words.\n\n{CODE}")
        for i in range(1, args.messages + 1)
    ]
    opened: list[float] = []
    recoloured: list[float] = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        view.set_messages(chat)
        app.processEvents()
        opened.append(time.perf_counter() - start)
        start = time.perf_counter()
        view._shown_dark = not view._shown_dark  # what a palette change finds
        view.rerender()
        app.processEvents()
        recoloured.append(time.perf_counter() - start)
    print(f"{args.messages} messages, {args.repeats} repeats (ms: median, min, max)")
    for name, times in (("open", opened), ("recolour", recoloured)):
        ms = [t * 1000 for t in times]
        print(f"  {name:9} {statistics.median(ms):7.1f} {min(ms):7.1f} {max(ms):7.1f}")
    print(f"  recolour / open: {statistics.median(recoloured) / statistics.median(opened):.2f}")


if __name__ == "__main__":
    main()
