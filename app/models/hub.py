"""Hugging Face Hub search and listing through `huggingface-hub`, with errors in plain words.

The endpoint comes from the caller or HF_ENDPOINT (read at call time, so tests can point it at
a local fake hub). Network calls block: the GUI runs them on a worker thread.

Every call is one request with a short connection timeout and no retries: huggingface-hub's
`list_models` goes through `http_backoff`, which retries a failed connection five times with
1+2+4+8+8 s of sleep (and logs each try), so a search without a network took ~25 s to fail.
Here a computer that is offline hears so at once, in one plain line.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import HfApi, get_session
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import ModelInfo
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status

from app.models.filenames import group_split_files, quantization_from_name

DEFAULT_ENDPOINT = "https://huggingface.co"
CONNECT_TIMEOUT_S = 5.0  # one attempt: a reachable Hub accepts in well under a second
ANSWER_TIMEOUT_S = 20.0  # a search or a repository's file list, once connected


class HubError(Exception):
    """A Hub operation failed; `str(error)` is a message for the user."""


class RepoNotFoundError(HubError):
    pass


class AuthRequiredError(HubError):
    pass


class NoGGUFFilesError(HubError):
    pass


class HubConnectionError(HubError):
    pass


@dataclass(frozen=True)
class RepoSummary:
    repo_id: str
    downloads: int | None
    likes: int | None
    gated: bool
    last_modified: str | None


@dataclass(frozen=True)
class RemoteFile:
    filename: str  # path inside the repository
    size: int | None
    sha256: str | None  # the LFS object's hash; None for small non-LFS files


@dataclass(frozen=True)
class RemoteModel:
    """One downloadable model: a single GGUF or all parts of a split one."""

    repo_id: str
    revision: str
    files: tuple[RemoteFile, ...]
    total_parts: int

    @property
    def filename(self) -> str:
        return self.files[0].filename

    @property
    def quantization(self) -> str | None:
        return quantization_from_name(self.filename)

    @property
    def size(self) -> int | None:
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s)

    @property
    def complete(self) -> bool:
        return len(self.files) == self.total_parts


def resolve_endpoint(endpoint: str | None = None) -> str:
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _os_error(exc: BaseException) -> OSError | None:
    """The operating system's error under a transport exception (httpx2 wraps httpcore's,
    which wraps the socket's), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            return current
        current = current.__cause__ or current.__context__
    return None


def connection_problem(exc: httpx2.TransportError) -> str:
    """Why the Hub could not be reached, in words a user can act on."""
    if isinstance(exc, httpx2.ConnectTimeout):
        return f"no answer to the connection attempt within {CONNECT_TIMEOUT_S:g} s"
    if isinstance(exc, httpx2.TimeoutException):
        return "it did not answer in time"
    cause = _os_error(exc)
    if isinstance(cause, socket.gaierror):
        return "no network connection (name lookup failed)"
    if isinstance(cause, ConnectionRefusedError):
        return "the connection was refused"
    if cause is not None and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "no network connection (network unreachable)"
    if isinstance(exc, httpx2.ConnectError):
        return f"the connection failed ({cause.strerror if cause and cause.strerror else exc})"
    return f"the connection broke off ({type(exc).__name__})"


@contextmanager
def plain_errors(what: str, endpoint: str | None = None) -> Iterator[None]:
    """Turn huggingface-hub and transport exceptions into HubError subclasses. A connection
    failure is one line naming the host and the cause: "Cannot reach huggingface.co: no
    network connection (name lookup failed)."."""
    try:
        yield
    except GatedRepoError:
        raise AuthRequiredError(
            f"{what}: this repository is gated or private. Accept its terms on Hugging Face "
            "and add an access token."
        ) from None
    except RepositoryNotFoundError:
        raise RepoNotFoundError(
            f"{what}: no such repository on Hugging Face (if it is private, add an access token)."
        ) from None
    except (RevisionNotFoundError, EntryNotFoundError):
        raise RepoNotFoundError(f"{what}: that file or revision does not exist.") from None
    except OfflineModeIsEnabled:
        raise HubConnectionError(
            f"{what}: offline mode is on (HF_HUB_OFFLINE is set), so Hearth does not use "
            "the network."
        ) from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        if status in (401, 403):
            raise AuthRequiredError(
                f"{what}: access denied (HTTP {status}). Check the access token."
            ) from None
        raise HubError(f"{what}: Hugging Face answered with an error (HTTP {status}).") from None
    except httpx2.TransportError as exc:
        host = urlsplit(resolve_endpoint(endpoint)).netloc
        raise HubConnectionError(f"Cannot reach {host}: {connection_problem(exc)}.") from None


class HubClient:
    """Search and list GGUF repositories. `token` is for gated/private repositories; None
    falls back to huggingface-hub's own login (HF_TOKEN or `hf auth login`)."""

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | None = None,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        answer_timeout: float = ANSWER_TIMEOUT_S,
    ) -> None:
        self.endpoint = resolve_endpoint(endpoint)
        self.token = token
        self.api = HfApi(endpoint=self.endpoint, token=token)
        self.timeout = httpx2.Timeout(answer_timeout, connect=connect_timeout)

    def search(self, text: str, limit: int = 20) -> list[RepoSummary]:
        """GGUF repositories matching `text`, most downloaded first. One request (the first
        page holds `limit` results), no retries; see the module's note."""
        params = {"search": text, "filter": "gguf", "sort": "downloads", "limit": limit}
        with plain_errors(f"Searching for {text!r}", self.endpoint):
            response = get_session().get(
                f"{self.endpoint}/api/models",
                params=params,
                headers=build_hf_headers(token=self.token),
                timeout=self.timeout,
            )
            hf_raise_for_status(response)
            models = [ModelInfo(**{"siblings": None, **item}) for item in response.json()[:limit]]
        return [
            RepoSummary(
                repo_id=m.id,
                downloads=m.downloads,
                likes=m.likes,
                gated=bool(m.gated),
                last_modified=m.last_modified.isoformat() if m.last_modified else None,
            )
            for m in models
        ]

    def list_models(self, repo_id: str, revision: str = "main") -> list[RemoteModel]:
        """The GGUF models in a repository (split files grouped), with sizes and hashes.
        Raises NoGGUFFilesError when there are none."""
        with plain_errors(f"Listing {repo_id}", self.endpoint):
            info = self.api.model_info(
                repo_id,
                revision=revision,
                files_metadata=True,
                timeout=self.timeout,  # type: ignore[arg-type]  # httpx2 takes a Timeout
            )
        files = {
            s.rfilename: RemoteFile(s.rfilename, s.size, s.lfs.sha256 if s.lfs else None)
            for s in info.siblings or []
            if s.rfilename.lower().endswith(".gguf")
            and not PurePosixPath(s.rfilename).name.lower().startswith("mmproj")
        }
        if not files:
            raise NoGGUFFilesError(
                f"{repo_id} has no GGUF files. Hearth runs GGUF models only; look for a "
                "repository with “GGUF” in its name."
            )
        commit = info.sha or revision
        return [
            RemoteModel(repo_id, commit, tuple(files[f] for f in g.files), g.total_parts)
            for g in group_split_files(sorted(files))
        ]

    def find_model(self, repo_id: str, filename: str | None, revision: str = "main") -> RemoteModel:
        """The model `filename` names (a file, a split part, or a quantization label such as
        Q4_K_M); without one, Q4_K_M if present, else the only model in the repository."""
        models = self.list_models(repo_id, revision)
        if filename:
            wanted = filename.casefold()
            for model in models:
                names = {f.filename.casefold() for f in model.files}
                names |= {PurePosixPath(f.filename).name.casefold() for f in model.files}
                if wanted in names or (model.quantization or "").casefold() == wanted:
                    return model
            choices = ", ".join(m.filename for m in models)
            raise HubError(f"{repo_id} has no GGUF file {filename!r}. It has: {choices}")
        if len(models) == 1:
            return models[0]
        for model in models:
            if model.quantization == "Q4_K_M":
                return model  # the usual best size/quality trade-off, as llama-server picks
        choices = ", ".join(m.filename for m in models)
        raise HubError(f"{repo_id} has several GGUF files; choose one: {choices}")
