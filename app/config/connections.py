"""Remote inference servers the user connected (issue 14): a name and a base URL each, kept in
the settings file. Their API keys never are: they live in the system keyring, one per address
(app/models/connection_keys.py). Qt-free, so the CLI could list them too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inference.backends.remote_url import parse_server_url


@dataclass(frozen=True)
class Connection:
    """`name`: what the model choice shows beside the server's model ids; `base_url`: as the
    user typed it (http://gpu-box:8080, .../v1 and a trailing slash name the same API)."""

    name: str
    base_url: str


def read_connections(raw: Any) -> tuple[Connection, ...]:
    """Connections from the settings file's JSON; entries that make no sense (a hand edit,
    an older or newer file) are skipped rather than failing the whole settings file."""
    if not isinstance(raw, list | tuple):
        return ()
    found: list[Connection] = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        name, url = entry.get("name"), entry.get("base_url")
        if isinstance(name, str) and isinstance(url, str) and name.strip() and url.strip():
            if any(c.name == name.strip() for c in found):
                continue  # names pick a server in the model choice: the first one wins
            found.append(Connection(name.strip(), url.strip()))
    return tuple(found)


def checked_connection(
    name: str, base_url: str, existing: tuple[Connection, ...], replacing: str | None = None
) -> Connection:
    """The connection the user typed, or ValueError with a sentence saying what is wrong:
    an empty name, a name another connection has, an address that is not http(s)."""
    name, base_url = name.strip(), base_url.strip()
    if not name:
        raise ValueError("Give the connection a name (it is shown beside its models).")
    if any(c.name == name and c.name != replacing for c in existing):
        raise ValueError(f"There is already a connection named {name!r}.")
    parse_server_url(base_url)  # its ValueError is already written for the user
    return Connection(name, base_url)


def with_connection(
    existing: tuple[Connection, ...], connection: Connection, replacing: str | None = None
) -> tuple[Connection, ...]:
    """`existing` with `connection` added, or put in the place of the one named `replacing`."""
    if replacing is None:
        return (*existing, connection)
    return tuple(connection if c.name == replacing else c for c in existing)


def without_connection(existing: tuple[Connection, ...], name: str) -> tuple[Connection, ...]:
    return tuple(c for c in existing if c.name != name)
