"""docs/privacy.md maps each promise to a test: every test it names must exist, and every
row must name one (so the page cannot point at a test that was renamed or removed)."""

from __future__ import annotations

import ast
import re

from kyc.config import PROJECT_ROOT

PAGE = PROJECT_ROOT / "docs" / "privacy.md"
REF = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?")


def _functions(path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_every_named_test_exists_and_every_promise_has_one():
    text = PAGE.read_text()
    rows = [ln for ln in text.splitlines() if re.match(r"^\| \d+ \|", ln)]
    assert len(rows) >= 14
    for row in rows:
        refs = REF.findall(row.split("|")[-2])
        assert refs, f"promise without a test: {row[:80]}"
    for file, func in REF.findall(text):
        path = PROJECT_ROOT / file
        assert path.is_file(), f"docs/privacy.md names a missing test file {file}"
        if func:
            assert func in _functions(path), f"docs/privacy.md names a missing test {file}::{func}"
