"""`hearth models ...`: list, search, pull, import, inspect and remove models from the command
line.

`add_parser(subparsers)` registers the command on the main parser; `run(args)` executes it and
returns the exit status. Errors print one line, `hearth: error: ...`, and exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config.paths import resolve_paths
from app.config.settings import load_settings
from app.models.catalog import (
    ModelEntry,
    find_model,
    format_parameters,
    import_model,
    list_installed,
    model_layout,
    remove_import,
    source_text,
)
from app.models.fit import evaluate_fit, human_bytes
from app.models.gguf_layout import ModelLayout
from app.models.machine import detect_machine
from app.models.tokens import load_token
from inference.gguf import ModelFileError, human_size

if TYPE_CHECKING:  # huggingface-hub is imported only by the commands that reach the Hub
    from app.models.download import DownloadProgress
    from app.models.hub import HubClient


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    models = subparsers.add_parser("models", help="list, find, download and inspect models")
    commands = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    listing = commands.add_parser("list", help="installed models")
    listing.add_argument("--json", action="store_true")
    search = commands.add_parser("search", help="search Hugging Face for GGUF models")
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--json", action="store_true")
    pull = commands.add_parser("pull", help="download a GGUF model from Hugging Face")
    pull.add_argument("repo", help="repository, e.g. unsloth/gemma-3-1b-it-GGUF")
    pull.add_argument("file", nargs="?", help="file name or quantization (default: Q4_K_M)")
    pull.add_argument("--list", action="store_true", help="only list the repository's models")
    pull.add_argument("--json", action="store_true")
    imported = commands.add_parser("import", help="use a GGUF file where it is (no copy)")
    imported.add_argument("path", type=Path)
    imported.add_argument("--json", action="store_true")
    info = commands.add_parser(
        "info", help="metadata and memory fit of a model (or of a Hub file, from its header)"
    )
    info.add_argument("model", help="installed model name, a GGUF path, or a Hub repository")
    info.add_argument("file", nargs="?", help="with a repository: file name or quantization")
    info.add_argument("--n-ctx", type=int, default=None, help="context size (default: settings)")
    info.add_argument("--gpu-layers", type=int, default=None, help="-1 = all (default: settings)")
    info.add_argument("--json", action="store_true")
    remove = commands.add_parser(
        "remove",
        help="delete a model from Hearth's models folder, or forget an imported one",
    )
    remove.add_argument("model", help="installed model name or path")
    remove.add_argument("--yes", action="store_true", help="do not ask before deleting")
    return models


def run(args: argparse.Namespace) -> int:
    from app.models.hub import HubError

    handlers = {
        "list": _list,
        "search": _search,
        "pull": _pull,
        "import": _import,
        "info": _info,
        "remove": _remove,
    }
    try:
        return handlers[args.models_command](args)
    except (ModelFileError, HubError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted; run the same command again to resume a download", 130)


def _fail(message: str, code: int = 1) -> int:
    print(f"hearth: error: {message}", file=sys.stderr)
    return code


def _entry_json(entry: ModelEntry) -> dict[str, Any]:
    data = asdict(entry)
    data["path"] = str(entry.path)
    data["files"] = [str(f) for f in entry.files]
    return data


def _list(args: argparse.Namespace) -> int:
    entries = list_installed(resolve_paths().ensure())
    if args.json:
        print(json.dumps([_entry_json(e) for e in entries], indent=2))
        return 0
    for e in entries:
        if e.error:
            print(f"{e.display_name}  [unusable: {e.error}]  {e.path}")
            continue
        details = [
            e.architecture or "?",
            e.parameters_label or "?",
            e.quantization or "?",
            human_size(e.file_size),
            f"ctx {e.context_length:,}" if e.context_length else "ctx ?",
            "template" if e.has_chat_template else "no template",
            source_text(e),
        ]
        print(f"{e.display_name}  ({', '.join(details)})  {e.path}")
    return 0


def _client() -> HubClient:
    from app.models.hub import HubClient

    return HubClient(token=load_token())


def _search(args: argparse.Namespace) -> int:
    results = _client().search(args.text, limit=args.limit)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return 0
    if not results:
        print(f"No GGUF repositories match {args.text!r}.")
    for r in results:
        gated = "  (gated: needs a token)" if r.gated else ""
        print(f"{r.repo_id}  ({r.downloads or 0:,} downloads){gated}")
    return 0


def _pull(args: argparse.Namespace) -> int:
    client = _client()
    if args.list:
        models = client.list_models(args.repo)
        if args.json:
            print(json.dumps([asdict(m) for m in models], indent=2))
            return 0
        for m in models:
            parts = f", {m.total_parts} parts" if m.total_parts > 1 else ""
            size = human_size(m.size) if m.size else "?"
            print(f"{m.filename}  ({m.quantization or '?'}, {size}{parts})")
        return 0
    model = client.find_model(args.repo, args.file)
    paths = resolve_paths().ensure()
    progress = None if args.json else _print_progress
    from app.models.download import download_model

    path = download_model(client, model, paths.models_dir, on_progress=progress)
    if progress is not None:
        sys.stderr.write("\n")
    if args.json:
        print(json.dumps({"path": str(path), "repo": model.repo_id, "file": model.filename}))
    else:
        print(f"Installed {model.filename} at {path}")
    return 0


def _print_progress(p: DownloadProgress) -> None:
    total = human_size(p.total_bytes) if p.total_bytes else "?"
    eta = f", {p.eta_s:.0f} s left" if p.eta_s is not None else ""
    speed = human_size(int(p.speed_bps))
    sys.stderr.write(f"\r{p.filename}: {human_size(p.done_bytes)} of {total} ({speed}/s{eta})  ")
    sys.stderr.flush()


def _import(args: argparse.Namespace) -> int:
    entry = import_model(resolve_paths().ensure(), args.path)
    if args.json:
        print(json.dumps(_entry_json(entry), indent=2))
    else:
        print(f"Imported {entry.name} ({entry.path}); the file stays where it is.")
    return 0


def _remote_entry(repo_id: str, filename: str) -> tuple[ModelEntry, ModelLayout]:
    """A Hub file described from its header alone (read with Range requests)."""
    from app.models.remote_header import read_remote_layout

    client = _client()
    model = client.find_model(repo_id, filename)
    layout = read_remote_layout(client, model)
    info = layout.info
    entry = ModelEntry(
        name=info.name or model.filename,
        path=Path(f"{repo_id}/{model.filename}"),
        files=tuple(Path(f.filename) for f in model.files),
        source=f"Hugging Face ({model.revision[:12]}, not downloaded)",
        file_size=model.size or 0,
        architecture=info.architecture,
        parameters_label=format_parameters(layout.n_parameters),
        quantization=info.quantization or model.quantization,
        context_length=info.context_length,
        has_chat_template=info.chat_template is not None,
    )
    return entry, layout


def _info(args: argparse.Namespace) -> int:
    paths = resolve_paths().ensure()
    if args.file:
        entry, layout = _remote_entry(args.model, args.file)
    else:
        entry = find_model(paths, args.model)
        if entry.error:
            return _fail(entry.error)
        layout = model_layout(entry.path, paths.models_dir)
    settings = load_settings(paths.settings_file)
    n_ctx = args.n_ctx or settings.n_ctx
    gpu_layers = settings.n_gpu_layers if args.gpu_layers is None else args.gpu_layers
    machine = detect_machine()
    verdict = evaluate_fit(
        layout,
        n_ctx,
        gpu_layers,
        machine,
        n_batch=settings.n_batch,
        flash_attn=settings.flash_attn,
    )
    est = verdict.estimate
    if args.json:
        payload = _entry_json(entry)
        payload["metadata"] = layout.info.metadata
        payload["fit"] = {
            "verdict": verdict.kind.value,
            "text": verdict.text,
            "n_ctx": n_ctx,
            "gpu_layers": est.gpu_layers,
            "total_layers": est.total_layers,
            "auto_gpu_layers": verdict.auto_gpu_layers,
            "ram_bytes": est.ram_bytes,
            "vram_bytes": est.vram_bytes,
            "kv_bytes": est.kv_bytes,
        }
        print(json.dumps(payload, indent=2, default=str))
        return 0
    print(f"{entry.display_name}  ({entry.path})")
    for label, value in (
        ("architecture", entry.architecture),
        ("parameters", entry.parameters_label),
        ("quantization", entry.quantization),
        ("file size", human_size(entry.file_size)),
        ("context length", f"{entry.context_length:,}" if entry.context_length else None),
        ("layers", layout.n_layers),
        ("chat template", "yes" if entry.has_chat_template else "no"),
        ("source", source_text(entry)),
    ):
        print(f"  {label + ':':16}{value if value is not None else '?'}")
    print(f"fit at context {n_ctx:,}, GPU layers {gpu_layers}: {verdict.text}")
    print(
        f"  weights {human_bytes(est.weights_cpu + est.weights_gpu)}, KV cache "
        f"{human_bytes(est.kv_bytes)}, compute {human_bytes(est.compute_cpu + est.compute_gpu)}"
        f"; Auto GPU layers: {verdict.auto_gpu_layers} of {est.total_layers}"
    )
    print("metadata:")
    for key, value in sorted(layout.info.metadata.items()):
        text = str(value)
        print(f"  {key} = {text[:117] + '...' if len(text) > 120 else text}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    """Delete a model Hearth downloaded; an import is only forgotten (its file is kept)."""
    # Lazy like the Hub commands: removal knows the download's leftover files, and the
    # download module imports huggingface-hub.
    from app.models.removal import delete_model_files, files_to_delete, why_not_delete

    paths = resolve_paths().ensure()
    entry = find_model(paths, args.model)
    if remove_import(paths, entry.path):
        print(f"{entry.path.name} was removed from the list; the file stays where it is.")
        return 0
    model_path = load_settings(paths.settings_file).model_path
    problem = why_not_delete(paths, entry, str(Path(model_path).resolve()) if model_path else "")
    if problem:
        return _fail(problem)
    size = human_size(sum(f.stat().st_size for f in files_to_delete(entry)))
    if not args.yes:
        answer = input(f"Delete {entry.path.name} ({size}) from {entry.path.parent}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was deleted.")
            return 1
    freed = delete_model_files(paths, entry)
    print(f"Deleted {entry.path.name}; {human_size(freed)} freed.")
    return 0
