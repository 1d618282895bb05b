"""`cpmds rotate-key` (security.md): a new key, and every file re-ingested under it."""

from __future__ import annotations

from cpmds.pipeline.home import prepare_home
from cpmds.pseudonymise import rotate_key
from cpmds.settings import Settings
from cpmds.state import reset_for_rebuild, state_path


def rotate(settings: Settings) -> str:
    prepare_home(settings)
    rotate_key(settings.home)
    files = reset_for_rebuild(settings.home) if state_path(settings.home).exists() else 0
    return (
        "A new pseudonymisation key is in place; the old one is kept beside it, retired. "
        f"{files} file(s) will be re-read under the new key by the next `cpmds run`."
    )
