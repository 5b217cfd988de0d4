"""The About dialog's facts (issue 15), Qt-free: the llama.cpp build read from the libraries
the installed package ships, and the text "Copy diagnostics" puts on the clipboard."""

from __future__ import annotations

from importlib import metadata
from pathlib import PurePosixPath

import pytest

from app.config import diagnostics
from app.config.paths import resolve_paths
from app.config.settings import Settings, load_settings, save_settings
from inference.protocol import ModelInfo


@pytest.mark.parametrize(
    ("libraries", "build"),
    [
        (["llama_cpp/lib/libggml-cpu.so", "llama_cpp/lib/libllama.so"], "CPU"),
        # Headers name every backend, built or not: only libraries count.
        (["include/ggml-cuda.h", "include/ggml-metal.h", "lib/libggml-cpu.so.0"], "CPU"),
        (["llama_cpp/lib/libggml-cuda.so", "llama_cpp/lib/libggml-cpu.so"], "CPU + CUDA"),
        (["llama_cpp/lib/libggml-metal.dylib"], "CPU + Metal"),
        (["llama_cpp/lib/ggml-vulkan.dll"], "CPU + Vulkan"),
    ],
)
def test_the_build_is_read_from_the_backend_libraries_shipped(
    monkeypatch: pytest.MonkeyPatch, libraries: list[str], build: str
) -> None:
    monkeypatch.setattr(metadata, "files", lambda _name: [PurePosixPath(p) for p in libraries])
    assert diagnostics.llama_build() == build


def test_an_unknown_install_reads_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "files", missing)
    assert diagnostics.llama_build() == "unknown"
    assert diagnostics.package_version("no-such-package-here") == "unknown"


def test_the_text_has_every_section_and_no_model_means_it_says_so() -> None:
    paths = resolve_paths()
    text = diagnostics.as_text(
        diagnostics.collect(paths, {"Qt": "6.9.9", "PySide6": "6.9.8"}, None)
    )
    assert text.startswith("Versions:\n  Hearth: ")
    for line in (
        "  Qt: 6.9.9",
        "  PySide6: 6.9.8",
        f"  llama-cpp-python: {metadata.version('llama-cpp-python')}",
        "  Engine: no model loaded",
        f"  Data folder: {paths.data_dir}",
        "  Set by HEARTH_HOME: yes",  # the tests' own folder
        "  CPU: ",
        "  RAM: ",
    ):
        assert line in text, line


def test_theme_and_font_size_are_settings_with_safe_defaults(tmp_path: PurePosixPath) -> None:
    path = tmp_path / "settings.json"  # type: ignore[operator]
    assert (Settings().theme, Settings().font_size) == ("system", 0)
    save_settings(path, Settings(theme="dark", font_size=14))
    assert (load_settings(path).theme, load_settings(path).font_size) == ("dark", 14)
    path.write_text('{"theme": 3, "font_size": "big"}')
    assert (load_settings(path).theme, load_settings(path).font_size) == ("system", 0)


def test_a_loaded_model_lists_flash_attention_as_llama_cpp_resolved_it() -> None:
    """Issue 13: the setting may be auto; the diagnostics say what it became."""
    info = ModelInfo(
        path="/m.gguf", name="m", architecture="llama", quantization="Q8_0", n_ctx=512,
        n_ctx_train=2048, n_gpu_layers=0, n_layers=2, gpu_offload_supported=False,
        backend="CPU", chat_format="chatml", chat_format_label="ChatML", chat_format_stops=(),
        load_ms=1.0, llama_cpp_version="0.3.36", flash_attn="on",
    )  # fmt: skip
    text = diagnostics.as_text(diagnostics.collect(resolve_paths(), {}, info))
    assert "  Flash attention: on" in text
