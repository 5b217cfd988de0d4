"""A remote server's address: the base URL a user gives, the OpenAI API under it, the server's
root (where llama-server and vLLM keep /props and /tokenize), and the one-time warning for
plain http:// beyond this machine. Nothing here touches the network: a host name is never
resolved, so only `localhost` and loopback IP literals count as this machine."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)
# A library's logger: the application decides where warnings go (the window's log); without
# a handler Python would print them to stderr itself, beside the caller's own showing.
log.addHandler(logging.NullHandler())

# Base URLs already warned about in this process: the warning is said once, not per request.
_warned: set[str] = set()


@dataclass(frozen=True)
class ServerAddress:
    """`api_base`: the OpenAI API root (".../v1"); `root`: the server itself (without the
    trailing /v1); `host`: host[:port], the name messages use."""

    api_base: str
    root: str
    host: str
    scheme: str

    @property
    def loopback(self) -> bool:
        return is_loopback(urlsplit(self.root).hostname or "")


def parse_server_url(url: str) -> ServerAddress:
    """`http://host:8080`, `http://host:8080/` and `http://host:8080/v1` all name the same API
    (.../v1); a path before it is kept (`https://example.org/api/v1`). Raises ValueError with
    a sentence for the user."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{url!r} is not a server address: give one such as http://127.0.0.1:8080 "
            "or https://example.org/v1"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r}: a server address takes no ?query or #fragment")
    path = parts.path.rstrip("/")
    root_path = path[: -len("/v1")] if path.endswith("/v1") else path
    root = urlunsplit((parts.scheme, parts.netloc, root_path, "", ""))
    return ServerAddress(api_base=root + "/v1", root=root, host=parts.netloc, scheme=parts.scheme)


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback IP literals; any other name is taken as remote (it
    is not looked up: that would be network traffic before the user asked for any)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_warning(address: ServerAddress) -> str | None:
    """The sentence to show when prompts and replies would cross a network unencrypted
    (http:// to another machine), else None."""
    if address.scheme != "http" or address.loopback:
        return None
    return (
        f"{address.host} is reached over plain http://: prompts, replies and the API key "
        "cross the network unencrypted. Use https:// (or an SSH tunnel) unless this network "
        "is your own."
    )


def warn_once(address: ServerAddress) -> str | None:
    """`insecure_warning`, logged the first time this process meets the address; returned
    every time so each caller can show it."""
    warning = insecure_warning(address)
    if warning is not None and address.root not in _warned:
        _warned.add(address.root)
        log.warning("%s", warning)
    return warning
