"""Step 6, transform: the dbt project that builds the warehouse from the state store.

- :mod:`cpmds.transform.project`: the dbt project and its manifest (``dbt parse`` when stale);
- :mod:`cpmds.transform.build`: where a run's warehouse is built and what dbt is told about it;
- :mod:`cpmds.transform.generate`: the sources and staging models, generated from the contract.

Nothing here knows Dagster; ``cpmds.defs.transform`` wires it in.
"""

from cpmds.transform.build import (
    BUILD_VARIABLE,
    STATE_VARIABLE,
    WarehouseBuild,
    latest_build,
    warehouse_build,
)
from cpmds.transform.generate import render_dbt_models, write_dbt_models
from cpmds.transform.project import (
    DBT_PROJECT_DIR,
    MANIFEST_PATH,
    DbtParseError,
    dbt_executable,
    manifest_is_fresh,
    prepare_manifest,
)

__all__ = [
    "BUILD_VARIABLE",
    "DBT_PROJECT_DIR",
    "MANIFEST_PATH",
    "STATE_VARIABLE",
    "DbtParseError",
    "WarehouseBuild",
    "dbt_executable",
    "latest_build",
    "manifest_is_fresh",
    "prepare_manifest",
    "render_dbt_models",
    "warehouse_build",
    "write_dbt_models",
]
