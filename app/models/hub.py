"""Hugging Face Hub search and listing through `huggingface-hub`, with errors in plain words.

The endpoint comes from the caller or HF_ENDPOINT (read at call time, so tests can point it at
a local fake hub). Network calls block: the GUI runs them on a worker thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from app.models.filenames import group_split_files, quantization_from_name

DEFAULT_ENDPOINT = "https://huggingface.co"


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


@contextmanager
def plain_errors(what: str) -> Iterator[None]:
    """Turn huggingface-hub and transport exceptions into HubError subclasses."""
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
    except httpx2.TimeoutException:
        raise HubConnectionError(f"{what}: Hugging Face did not answer in time.") from None
    except httpx2.TransportError as exc:
        raise HubConnectionError(
            f"{what}: could not reach Hugging Face ({type(exc).__name__}). "
            "Check the network connection."
        ) from None


class HubClient:
    """Search and list GGUF repositories. `token` is for gated/private repositories; None
    falls back to huggingface-hub's own login (HF_TOKEN or `hf auth login`)."""

    def __init__(self, endpoint: str | None = None, token: str | None = None) -> None:
        self.endpoint = resolve_endpoint(endpoint)
        self.token = token
        self.api = HfApi(endpoint=self.endpoint, token=token)

    def search(self, text: str, limit: int = 20) -> list[RepoSummary]:
        """GGUF repositories matching `text`, most downloaded first."""
        with plain_errors(f"Searching for {text!r}"):
            models = list(
                self.api.list_models(search=text, filter="gguf", sort="downloads", limit=limit)
            )
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
        with plain_errors(f"Listing {repo_id}"):
            info = self.api.model_info(repo_id, revision=revision, files_metadata=True)
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
