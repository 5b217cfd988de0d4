"""Rules the code base keeps about tests (DESIGN.md, issue 11), checked on the source itself:
test hooks are constructor parameters or fixtures, never `*_for_test` methods in production code;
test modules share helpers only through tests/support/; tests wait on a condition, not a clock."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("app", "inference", "ui", "storage")
TESTS = ROOT / "tests"
# A fixed wait is kept only where the test is about time passing; its line says so.
KEPT_WAIT = "time passing:"


def _modules(*folders: Path) -> Iterator[tuple[Path, ast.Module]]:
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_production_code_has_no_test_only_methods() -> None:
    for_test = re.compile(r"_for_tests?$")
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path, tree in _modules(*(ROOT / name for name in PRODUCTION))
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and for_test.search(node.name)
    ]
    assert found == []


def test_test_modules_import_helpers_only_from_tests_support() -> None:
    found: list[str] = []
    for path, tree in _modules(TESTS):
        if TESTS / "support" in path.parents:
            continue
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] if node.level == 0 else [f"relative .{node.module}"]
            elif isinstance(node, ast.ImportFrom):
                names = ["relative import"]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                shared = name.split(".")[0] in ("tests", "conftest") or name.startswith("relative")
                helper = name == "tests.support" or name.startswith("tests.support.")
                if shared and not helper:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert found == []


def _outside_loops(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes under `node` that no loop encloses: a sleep inside a loop is a poll."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.While | ast.For | ast.AsyncFor):
            yield child
            yield from _outside_loops(child)


def test_tests_wait_on_conditions_not_on_the_clock() -> None:
    found: list[str] = []
    for path, tree in _modules(TESTS):
        if path == Path(__file__).resolve():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in _outside_loops(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            call = ast.unparse(node.func)
            fixed = call.endswith(("qtbot.wait", "time.sleep", "QTest.qWait"))
            if fixed and KEPT_WAIT not in lines[node.lineno - 1]:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {call}")
    assert found == []
