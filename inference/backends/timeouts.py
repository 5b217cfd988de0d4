"""How long Hearth waits for a remote server (issue 14), apart so the command line can name the
defaults in --help without importing the HTTP client."""

from __future__ import annotations

# One connection attempt: a reachable server accepts in well under a second.
DEFAULT_CONNECT_TIMEOUT_S = 5.0
# How long a reply may send nothing before it counts as stalled. Generous: a server reading a
# long document's prompt sends nothing until its first token.
DEFAULT_READ_TIMEOUT_S = 120.0
