"""The JS SDK (sdk/js) is built and tested from its npm packages, and its build is reproducible.

Runs ``npm test`` (tsc for the types, esbuild for the bundle, node's test runner) and
builds twice to compare the outputs byte for byte. Needs node_modules from ``npm ci``
(scripts/setup.sh runs it).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from kyc.config import PROJECT_ROOT

SDK = PROJECT_ROOT / "sdk" / "js"
NPM = shutil.which("npm")

pytestmark = pytest.mark.skipif(NPM is None, reason="npm is not installed (apt-get install npm)")


def _npm(*args: str) -> subprocess.CompletedProcess:
    if not (PROJECT_ROOT / "node_modules" / "typescript").is_dir():
        pytest.fail("node_modules is missing: run `npm ci` (scripts/setup.sh does)")
    return subprocess.run([NPM, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)


def _digest() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((SDK / "dist").iterdir())}


def test_sdk_tests_pass():
    r = _npm("test")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "# fail 0" in r.stdout and "# pass" in r.stdout


def test_sdk_build_is_reproducible_and_typed():
    assert _npm("run", "build").returncode == 0
    first = _digest()
    assert _npm("run", "build").returncode == 0
    assert _digest() == first
    assert {"kyc-capture.js", "index.d.ts"} <= set(first)
    types = (SDK / "dist" / "index.d.ts").read_text()
    assert "export declare function openCapture" in types and "verificationId: string" in types
