"""The build scripts in packaging/, loaded by path: packaging/ is no importable package (the
PyPI `packaging` library has the name), and the spec loads them the same way."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACKAGING = Path(__file__).resolve().parent.parent.parent / "packaging"


def load(name: str) -> ModuleType:
    """packaging/NAME.py as a module (loaded once per session)."""
    module_name = f"hearth_packaging_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
