"""``python -m cpmds.transform models [--check]`` and ``python -m cpmds.transform parse [--force]``.

``models`` regenerates the dbt sources, staging and current-state models, seeds, vars and macros
from the contract and catalogue (``--check``: list the stale files and exit 1, writing nothing);
``parse`` runs ``dbt parse`` when the manifest is missing or stale (``--force``: always), as
``make test`` and ``make demo`` do first; ``docs`` writes the warehouse's documentation page
(``<home>/docs/warehouse.html``) from a home's newest build (``make warehouse-docs``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cpmds.settings import PROJECT_ROOT, resolve_settings
from cpmds.transform.docs import write_warehouse_docs
from cpmds.transform.generate import write_dbt_models
from cpmds.transform.project import manifest_is_fresh, prepare_manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cpmds.transform", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    models = commands.add_parser("models", help="regenerate the sources and staging models")
    models.add_argument("--check", action="store_true", help="list stale files, write nothing")
    parse = commands.add_parser("parse", help="dbt parse, when the manifest is missing or stale")
    parse.add_argument("--force", action="store_true", help="parse even when fresh")
    docs = commands.add_parser("docs", help="the warehouse's documentation page (dbt docs)")
    docs.add_argument("--home", type=Path, help="the state home (default: CPMDS_HOME or .cpmds/)")
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
    if arguments.command == "docs":
        page = write_warehouse_docs(resolve_settings(home=arguments.home).home)
        print(f"wrote: {page}")
        return 0
    fresh = manifest_is_fresh() and not arguments.force
    path = prepare_manifest(force=arguments.force)
    print(f"{'fresh' if fresh else 'parsed'}: {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
