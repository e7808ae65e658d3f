"""The committed code editor bundle and the vendored axe-core are what frontend/ builds: a
fresh clone serves and tests them without node, so a stale copy must fail here."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)
FRONTEND = BASE / "frontend"
BUNDLE = BASE / "grader" / "static" / "grader" / "code_editor.min.js"
AXE = BASE / "tests" / "browser" / "vendor" / "axe.min.js"
# In the order frontend/build.mjs hashes them.
BUILD_INPUTS = ["code_editor.js", "build.mjs", "package-lock.json"]


def test_the_bundle_was_built_from_the_sources_and_lock_beside_it() -> None:
    # given
    digest = hashlib.sha256()
    for name in BUILD_INPUTS:
        digest.update((FRONTEND / name).read_bytes())
    # when
    banner = BUNDLE.read_text(encoding="utf-8").splitlines()[0]
    # then
    built_from = re.search(r"inputs sha256 ([0-9a-f]{64})", banner)
    assert built_from is not None, f"{BUNDLE} has no build banner: rebuild it (make editor-bundle)"
    assert built_from.group(1) == digest.hexdigest(), "stale bundle: run `make editor-bundle`"


def test_the_vendored_axe_is_the_locked_version() -> None:
    lock = json.loads((FRONTEND / "package-lock.json").read_text(encoding="utf-8"))
    locked = lock["packages"]["node_modules/axe-core"]["version"]
    header = AXE.read_text(encoding="utf-8")[:200]
    assert f"axe v{locked}" in header, (
        "stale tests/browser/vendor/axe.min.js: run `make editor-bundle`"
    )
