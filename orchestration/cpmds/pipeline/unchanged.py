"""Whether a run has anything to build: the no-change re-run in seconds (issue: national scale).

A warehouse build is a function of three things: the state store's load log (which files are
loaded, quarantined, current or superseded; the landing tables are keyed by file and only ever
change with it), the pseudonymisation key the landing tables were written under, and the code
(this package, its contract and catalogue data, the dbt project). Their digest is the build's
fingerprint. After a run passed every gate (published or not), the fingerprint is kept beside
the published warehouse with the version it points at; a later run with the same fingerprint and
the same published version skips the build, and everything after it, as nothing could change.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from cpmds.publish.atomic import published_path
from cpmds.settings import PROJECT_ROOT
from cpmds.state import StateStore
from cpmds.transform.project import project_digest

LAST_BUILD_FILE = ".last_build.json"
ALWAYS_BUILD_VARIABLE = "CPMDS_ALWAYS_BUILD"
PACKAGE = PROJECT_ROOT / "orchestration" / "cpmds"
CODE_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".sql", ".j2", ".html", ".css", ".csv", ".md"}


def code_digest() -> str:
    digest = hashlib.sha256(project_digest().encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts:
            digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_fingerprint(home: Path) -> str:
    """The digest of everything a warehouse build depends on (see the module's docstring)."""
    digest = hashlib.sha256(code_digest().encode())
    with StateStore.open(home, read_only=True) as store:
        digest.update(store.build_inputs_digest().encode())
    return digest.hexdigest()


def _record_path(home: Path) -> Path:
    return published_path(home).with_name(LAST_BUILD_FILE)


def _published_version(home: Path) -> str | None:
    target = published_path(home)
    return target.resolve().name if target.is_symlink() else None


def remember_build(home: Path, fingerprint: str) -> None:
    """After a run passed every gate: what it was built from, and what is published now."""
    record = {"fingerprint": fingerprint, "published_version": _published_version(home)}
    path = _record_path(home)
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(json.dumps(record) + "\n", encoding="utf-8")
    partial.replace(path)


def nothing_to_build(home: Path, fingerprint: str) -> bool:
    if os.environ.get(ALWAYS_BUILD_VARIABLE):  # tests that rebuild an unchanged zone on purpose
        return False
    path = _record_path(home)
    published = _published_version(home)
    if not path.is_file() or published is None:
        return False
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record == {"fingerprint": fingerprint, "published_version": published}
