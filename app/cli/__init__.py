"""The `hearth` command: main.py parses the command line and runs chat, paths, export,
import and gui; summarize, translate and models each add their own subcommand. Never imports
Qt, app.gui or ui: the process entry point (app/entry.py) hands it the window and the chat
exporter."""

from app.cli.main import main

__all__ = ["main"]
