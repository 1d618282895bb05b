"""The dbt project (``dbt_project/``) and its manifest.

``@dbt_assets`` reads ``dbt_project/target/manifest.json`` when the code location is imported, so
the manifest must exist, and match the project, before anything loads the definitions.
:func:`prepare_manifest` runs ``dbt parse`` when it is missing or stale: stale meaning that any file
of the project (models, YAML, macros, tests, ``dbt_project.yml``, ``profiles.yml``) has changed
since the last parse, judged by a digest of their paths and contents kept beside the manifest. A
fresh manifest costs a few milliseconds to confirm; a parse a few seconds.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cpmds.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
DIGEST_PATH = TARGET_DIR / "cpmds_parse_inputs.sha256"
_LOCK_PATH = TARGET_DIR / ".cpmds_parse.lock"

# Folders of the project that dbt writes, or that hold no project source.
_NOT_SOURCE = {"target", "logs", "dbt_packages"}


class DbtParseError(RuntimeError):
    """``dbt parse`` failed; the message carries dbt's own output."""


def dbt_executable() -> str:
    """The ``dbt`` of this Python environment, else the first on ``PATH``."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise DbtParseError("no dbt executable beside this Python or on PATH: run `uv sync`")
    return found


def project_files(project_dir: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Every file dbt reads to parse the project, in a fixed order."""
    files = []
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if relative.parts[0] in _NOT_SOURCE or not path.is_file():
            continue
        files.append(path)
    return files


def project_digest(project_dir: Path = DBT_PROJECT_DIR) -> str:
    digest = hashlib.sha256()
    for path in project_files(project_dir):
        digest.update(path.relative_to(project_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def manifest_is_fresh() -> bool:
    if not MANIFEST_PATH.is_file() or not DIGEST_PATH.is_file():
        return False
    return DIGEST_PATH.read_text(encoding="utf-8").strip() == project_digest()


def prepare_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` if the manifest is missing or stale (or ``force``); return its path.

    Processes that prepare at the same time take turns on a lock, and the second finds the
    manifest fresh.
    """
    if not force and manifest_is_fresh():
        return MANIFEST_PATH
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with _parse_lock():
        if force or not manifest_is_fresh():
            digest = project_digest()
            _parse()
            DIGEST_PATH.write_text(digest + "\n", encoding="utf-8")
    return MANIFEST_PATH


def dbt_environment() -> dict[str, str]:
    """What every dbt command of the pipeline runs with, besides the profile's variables."""
    return {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
    }


def run_dbt(arguments: list[str], variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``dbt <arguments> --quiet`` in the project, with this process's environment, the
    pipeline's dbt settings and ``variables``; its output captured, its exit status not checked."""
    return subprocess.run(
        [dbt_executable(), *arguments, "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **dbt_environment(), **variables},
        capture_output=True,
        text=True,
        check=False,
    )


def _parse() -> None:
    result = run_dbt(
        ["parse"],
        {"DBT_TARGET_PATH": str(TARGET_DIR), "DBT_LOG_PATH": str(DBT_PROJECT_DIR / "logs")},
    )
    if result.returncode != 0 or not MANIFEST_PATH.is_file():
        raise DbtParseError(f"dbt parse failed:\n{result.stdout}{result.stderr}")


@contextmanager
def _parse_lock() -> Iterator[None]:
    descriptor = os.open(_LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


_CHILD_LAUNCHER = """#!{python}
# Written by cpmds (orchestration/cpmds/transform/project.py): runs dbt so that it dies with the
# process that started it, as a run killed part-way must not leave dbt holding the state store.
import ctypes, os, signal, sys
PR_SET_PDEATHSIG = 1
if sys.platform == "linux":
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the line above took effect
        sys.exit(1)
os.execv({dbt!r}, [{dbt!r}, *sys.argv[1:]])
"""


def dbt_child_executable() -> str:
    """An executable that runs this environment's dbt and dies with its parent (Linux: the
    parent-death signal survives ``exec``): a ``cpmds run`` killed while dbt builds leaves no dbt
    behind holding the state store. Written once per Python environment to the temp folder."""
    dbt = dbt_executable()
    text = _CHILD_LAUNCHER.format(python=sys.executable, dbt=dbt)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"cpmds-dbt-{os.getuid()}-{digest}"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.chmod(0o755)
        partial.replace(path)
    return str(path)
