"""A fake Hugging Face Hub on 127.0.0.1 for tests: the parts of the Hub API that Hearth and
huggingface-hub use, serving files the test supplies (tiny GGUFs).

- `GET /api/models?search=...&filter=gguf` — search (JSON list of {id, downloads, ...})
- `GET /api/models/{owner}/{repo}[/revision/{rev}]?blobs=true` — repo info with `siblings`
  carrying `size` and `lfs.sha256`
- `GET|HEAD /{owner}/{repo}/resolve/{rev}/{path}` — the file, with `X-Repo-Commit`, `ETag`,
  `X-Linked-Etag`, `X-Linked-Size`, `Content-Length`, `Accept-Ranges` and Range support;
  optionally via a 302 to `/_cdn/...` as the real hub does for LFS files.

Knobs (plain attributes, change them between requests): `drop_after` (close the connection
after sending that many body bytes, for the next `drop_times` file responses), `corrupt`
(file names served with flipped bytes while the listing keeps the true hash), `token`
(require `Authorization: Bearer <token>`; gated repos answer 401 + X-Error-Code: GatedRepo
otherwise), `redirect` (302 to a CDN path), `delay_per_chunk` (slow transfers for cancel
tests). `requests` records (method, path, headers) of every request.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RANGE_RE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class FakeRepo:
    repo_id: str
    files: dict[str, bytes] = field(default_factory=dict)
    downloads: int = 0
    gated: bool = False

    def sha256(self, name: str) -> str:
        return hashlib.sha256(self.files[name]).hexdigest()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up mid-response (cancel tests) are expected


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.drop_after: int | None = None
        self.drop_times = 1
        self.corrupt: set[str] = set()
        self.token: str | None = None
        self.redirect = False
        self.delay_per_chunk = 0.0
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-hub", daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_repo(self, repo_id: str, downloads: int = 0, gated: bool = False) -> FakeRepo:
        repo = FakeRepo(repo_id, downloads=downloads, gated=gated)
        self.repos[repo_id] = repo
        return repo

    def add_file(self, repo_id: str, name: str, data: bytes | Path) -> None:
        if repo_id not in self.repos:
            self.add_repo(repo_id)
        self.repos[repo_id].files[name] = data.read_bytes() if isinstance(data, Path) else data

    def file_requests(self, name: str) -> list[dict[str, str]]:
        """Headers of the GET requests for file `name` (resolve or CDN path)."""
        return [h for m, p, h in self.requests if m == "GET" and p.endswith("/" + name)]

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        # Keep-alive connections (huggingface-hub shares one HTTP client) would keep their
        # handler threads waiting for another request: close them so no thread outlives us.
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def take_drop(self) -> int | None:
        """The byte count after which to drop this response, or None."""
        with self._lock:
            if self.drop_after is None or self.drop_times <= 0:
                return None
            self.drop_times -= 1
            return self.drop_after


def _make_handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # a stuck client cannot hold a handler thread forever

        def setup(self) -> None:
            super().setup()
            with hub._lock:
                hub._connections.add(self.connection)

        def finish(self) -> None:
            with hub._lock:
                hub._connections.discard(self.connection)
            super().finish()

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def do_HEAD(self) -> None:
            self._route(head=True)

        def do_GET(self) -> None:
            self._route(head=False)

        # -- helpers ------------------------------------------------------------------
        def _json(self, payload: object, status: int = 200) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: str | None = None, message: str = "") -> None:
            body = json.dumps({"error": message or code or "error"}).encode()
            self.send_response(status)
            if code:
                self.send_header("X-Error-Code", code)
            if message:
                self.send_header("X-Error-Message", message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self, repo: FakeRepo) -> bool:
            if hub.token is None:
                return True
            if self.headers.get("Authorization") == f"Bearer {hub.token}":
                return True
            if repo.gated:
                self._error(401, "GatedRepo", "Access to model is restricted.")
            else:
                self._error(401, "RepoNotFound", "Repository not found")
            return False

        def _route(self, *, head: bool) -> None:
            url = urlsplit(self.path)
            path = unquote(url.path)
            hub.requests.append(
                (self.command, path, {k.title(): v for k, v in self.headers.items()})
            )
            query = parse_qs(url.query)
            if path == "/api/models":
                return self._search(query)
            if path.startswith("/api/models/"):
                return self._repo_info(path.removeprefix("/api/models/"))
            match = re.match(r"^/(?:_cdn/)?([^/]+/[^/]+)/(?:resolve/[^/]+/)?(.+)$", path)
            if match and match.group(1) in hub.repos:
                cdn = path.startswith("/_cdn/")
                return self._file(hub.repos[match.group(1)], match.group(2), head, cdn)
            self._error(404, "RepoNotFound", "Repository not found")

        def _search(self, query: dict[str, list[str]]) -> None:
            text = query.get("search", [""])[0].lower()
            want_gguf = "gguf" in query.get("filter", [])
            found = [
                repo
                for repo in hub.repos.values()
                if text in repo.repo_id.lower()
                and (not want_gguf or any(n.endswith(".gguf") for n in repo.files))
            ]
            found.sort(key=lambda r: -r.downloads)
            limit = int(query.get("limit", ["1000"])[0])
            self._json(
                [
                    {
                        "id": r.repo_id,
                        "_id": r.repo_id,
                        "downloads": r.downloads,
                        "likes": 0,
                        "gated": "auto" if r.gated else False,
                        "private": False,
                        "tags": ["gguf"],
                        "lastModified": "2025-01-01T00:00:00.000Z",
                    }
                    for r in found[:limit]
                ]
            )

        def _repo_info(self, rest: str) -> None:
            repo_id = "/".join(rest.split("/")[:2])
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "RepoNotFound", "Repository not found")
            if not self._authorized(repo):
                return None
            siblings = [
                {
                    "rfilename": name,
                    "size": len(data),
                    "blobId": hashlib.sha1(data).hexdigest(),
                    "lfs": {"sha256": repo.sha256(name), "size": len(data), "pointerSize": 134},
                }
                for name, data in repo.files.items()
            ]
            self._json(
                {
                    "id": repo_id,
                    "_id": repo_id,
                    "sha": COMMIT,
                    "private": False,
                    "gated": "auto" if repo.gated else False,
                    "downloads": repo.downloads,
                    "likes": 0,
                    "tags": ["gguf"],
                    "siblings": siblings,
                }
            )

        def _file(self, repo: FakeRepo, name: str, head: bool, cdn: bool) -> None:
            if name not in repo.files:
                return self._error(404, "EntryNotFound", "Entry not found")
            if not cdn and not self._authorized(repo):
                return None
            data = repo.files[name]
            sha = repo.sha256(name)
            if hub.redirect and not cdn:
                self.send_response(302)
                self.send_header("Location", f"/_cdn/{repo.repo_id}/{name}")
                self._hub_headers(sha, len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if name in hub.corrupt:
                data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
            start, end = 0, len(data) - 1
            status = 200
            wanted = self.headers.get("Range")
            if wanted:
                match = _RANGE_RE.match(wanted.strip())
                if match is None or int(match.group(1)) >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                start = int(match.group(1))
                end = min(int(match.group(2)), end) if match.group(2) else end
                status = 206
            body = data[start : end + 1]
            self.send_response(status)
            self._hub_headers(sha, len(data))
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(body)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            self.end_headers()
            if head:
                return None
            drop = hub.take_drop()
            limit = len(body) if drop is None else min(drop, len(body))
            sent = 0
            while sent < limit:
                block = body[sent : min(sent + 8192, limit)]
                self.wfile.write(block)
                self.wfile.flush()
                sent += len(block)
                if hub.delay_per_chunk:
                    threading.Event().wait(hub.delay_per_chunk)
            if drop is not None:
                self.close_connection = True  # the client sees a body shorter than promised
            return None

        def _hub_headers(self, sha: str, size: int) -> None:
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{sha}"')
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("X-Linked-Size", str(size))

    return Handler
