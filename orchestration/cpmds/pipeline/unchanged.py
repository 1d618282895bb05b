"""Whether a run has anything to build: the no-change re-run in seconds (issue: national scale).

A warehouse build is a function of three things: the state store's load log (which files are
loaded, quarantined, current or superseded; the landing tables are keyed by file and only ever
change with it), the pseudonymisation key the landing tables were written under, and the code
(this package, its contract and catalogue data, the dbt project). Their digest is the build's
fingerprint. After a run passed every gate (published or not), the fingerprint is kept beside
the published warehouse with the version it points at; a later run with the same fingerprint and
the same published version skips the build, and everything after it, as nothing could change.

The record also keeps the digest of the code that built the published version, which decides
whether the next build may start from it (:mod:`cpmds.pipeline.incremental`).
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import version
from pathlib import Path

from cpmds.publish.atomic import published_path
from cpmds.settings import PROJECT_ROOT
from cpmds.state import StateStore
from cpmds.transform.project import project_digest

LAST_BUILD_FILE = ".last_build.json"
ALWAYS_BUILD_VARIABLE = "CPMDS_ALWAYS_BUILD"
PACKAGE = PROJECT_ROOT / "orchestration" / "cpmds"
CODE_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".sql", ".j2", ".html", ".css", ".csv", ".md"}
# What runs the models' SQL: another version may compute (or hash) differently.
ENGINE_PACKAGES = ("duckdb", "dbt-core", "dbt-duckdb")


def code_digest() -> str:
    digest = hashlib.sha256(project_digest().encode())
    for package in ENGINE_PACKAGES:
        digest.update(f"{package}=={version(package)}\0".encode())
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
    """The published version's folder (``versions/<stamp>-<run>/``), which names it."""
    target = published_path(home)
    return target.resolve().parent.name if target.is_symlink() else None


def _last_record(home: Path) -> dict:
    path = _record_path(home)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def remember_build(home: Path, fingerprint: str, run_id: str | None = None) -> None:
    """After run ``run_id`` passed every gate: what it was built from, what is published now, and
    the code that built what is published (this run's when it published it, else as recorded
    before, else unknown)."""
    published = _published_version(home)
    last = _last_record(home)
    if run_id is not None and published is not None and published.endswith(f"-{run_id}"):
        built_by = code_digest()
    else:
        built_by = last.get("code") if last.get("published_version") == published else None
    record = {"fingerprint": fingerprint, "published_version": published, "code": built_by}
    path = _record_path(home)
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(json.dumps(record) + "\n", encoding="utf-8")
    partial.replace(path)


def forget_build(home: Path) -> None:
    _record_path(home).unlink(missing_ok=True)


def nothing_to_build(home: Path, fingerprint: str) -> bool:
    if os.environ.get(ALWAYS_BUILD_VARIABLE):  # tests that rebuild an unchanged zone on purpose
        return False
    published = _published_version(home)
    last = _last_record(home)
    if published is None:
        return False
    return last.get("fingerprint") == fingerprint and last.get("published_version") == published


def built_by_this_code(home: Path) -> bool:
    """Whether the published warehouse was built by the code running now."""
    published = _published_version(home)
    last = _last_record(home)
    return (
        published is not None
        and last.get("published_version") == published
        and last.get("code") == code_digest()
    )
