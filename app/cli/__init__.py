"""The `hearth` command: main.py parses the command line and runs chat, paths, export,
import and gui; summarize, translate and models each add their own subcommand. Never imports
Qt (the gui command imports it lazily, from app.gui.main)."""

from app.cli.main import main

__all__ = ["main"]
