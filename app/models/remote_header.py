"""Read a Hub model's GGUF header without downloading the model: HTTP Range requests for the
first bytes of each file, grown until the header (metadata, vocabulary, tensor table) is in,
then parsed by the same bounded reader as local files. The layout feeds the fit estimate
before a download, so the KV cache at the user's context counts, not only the file size.

Blocking network calls: the GUI runs `read_remote_layout` on a worker thread.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from huggingface_hub import get_session, hf_hub_url
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status

from app.models.gguf_layout import (
    HeaderIncompleteError,
    ModelLayout,
    header_length,
    layout_from_headers,
)
from app.models.hub import HubClient, HubError, RemoteFile, RemoteModel, plain_errors
from inference.gguf import human_size

# Most headers fit in 1 MiB; big vocabularies with BPE merges take several MiB. Each step
# fetches only the bytes not yet read, doubling the total.
FIRST_READ = 1 << 20
MAX_HEADER = 32 << 20
TIMEOUT_S = 30.0
_UNKNOWN_SIZE = 1 << 62


class HeaderTooLargeError(HubError):
    pass


def _read_range(
    client: HubClient, model: RemoteModel, remote: RemoteFile, start: int, end: int
) -> bytes:
    """Bytes start..end (inclusive) of one file; fewer when the file ends first. A server
    that ignores Range sends the whole file: skip to `start` and stop reading at `end`."""
    url = hf_hub_url(
        model.repo_id, remote.filename, revision=model.revision, endpoint=client.endpoint
    )
    headers = build_hf_headers(token=client.token)
    headers["Range"] = f"bytes={start}-{end}"
    wanted = end - start + 1
    chunks: list[bytes] = []
    got = 0
    with (
        plain_errors(
            f"Reading the header of {PurePosixPath(remote.filename).name}", client.endpoint
        ),
        get_session().stream(
            "GET", url, headers=headers, follow_redirects=True, timeout=TIMEOUT_S
        ) as response,
    ):
        if response.status_code == 416:
            return b""  # start is past the end of the file
        if response.status_code >= 400:
            response.read()  # the error details are in the body
            hf_raise_for_status(response)
        skip = start if response.status_code != 206 else 0
        for block in response.iter_bytes():
            if skip:
                cut = min(skip, len(block))
                block, skip = block[cut:], skip - cut
            chunks.append(block[: wanted - got])
            got += len(chunks[-1])
            if got >= wanted:
                break  # leaving the stream closes the connection: the rest is not sent
    return b"".join(chunks)


def read_remote_header(
    client: HubClient, model: RemoteModel, remote: RemoteFile, *, limit: int | None = None
) -> bytes:
    """The first bytes of `remote`, enough to hold its whole GGUF header. Raises HubError
    (network, access, a header over `limit`, MAX_HEADER by default) or ModelFileError."""
    limit = MAX_HEADER if limit is None else limit
    buf = b""
    want = min(FIRST_READ, limit)
    while True:
        buf += _read_range(client, model, remote, len(buf), want - 1)
        try:
            header_length(buf)
            return buf
        except HeaderIncompleteError:
            if len(buf) < want:  # the file ended inside its header: let the parser say so
                return buf
            if want >= limit:
                raise HeaderTooLargeError(
                    f"The header of {remote.filename} is larger than {human_size(limit)}; "
                    "it was not read."
                ) from None
            want = min(want * 2, limit)


def read_remote_layout(client: HubClient, model: RemoteModel) -> ModelLayout:
    """The layout of a Hub model from its header(s) alone; for a split model the first part
    gives the metadata and every part its tensors. Raises HubError or ModelFileError."""
    first = model.files[0]
    headers = [read_remote_header(client, model, f) for f in model.files]
    # Without a listed size the "data lies inside the file" check cannot be made; the
    # header reads themselves stay bounded by the bytes received.
    size = first.size if first.size is not None else _UNKNOWN_SIZE
    return layout_from_headers(PurePosixPath(first.filename).name, headers[0], size, headers[1:])
