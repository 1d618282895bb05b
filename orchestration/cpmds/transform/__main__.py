"""``python -m cpmds.transform models [--check]`` and ``python -m cpmds.transform parse [--force]``.

``models`` regenerates the dbt sources and staging models from the contract (``--check``: list the
stale files and exit 1, writing nothing); ``parse`` runs ``dbt parse`` when the manifest is missing
or stale (``--force``: always), as ``make test`` and ``make demo`` do first.
"""

from __future__ import annotations

import argparse
import sys

from cpmds.settings import PROJECT_ROOT
from cpmds.transform.generate import write_dbt_models
from cpmds.transform.project import manifest_is_fresh, prepare_manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cpmds.transform", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    models = commands.add_parser("models", help="regenerate the sources and staging models")
    models.add_argument("--check", action="store_true", help="list stale files, write nothing")
    parse = commands.add_parser("parse", help="dbt parse, when the manifest is missing or stale")
    parse.add_argument("--force", action="store_true", help="parse even when fresh")
    arguments = parser.parse_args(argv)

    if arguments.command == "models":
        changed = write_dbt_models(check=arguments.check)
        for path in changed:
            verb = "stale" if arguments.check else "wrote"
            print(f"{verb}: {path.relative_to(PROJECT_ROOT)}")
        if arguments.check and changed:
            print("Run `python -m cpmds.transform models` (or `make docs`) to regenerate them.")
            return 1
        return 0
    fresh = manifest_is_fresh() and not arguments.force
    path = prepare_manifest(force=arguments.force)
    print(f"{'fresh' if fresh else 'parsed'}: {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
