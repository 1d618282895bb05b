"""The dbt unit tests, run on their own: they test the models' logic on hand-made rows, not the
data, so ``make test`` runs them and a pipeline run does not (they would add ~20 s to every run
and prove nothing new about its data).

dbt needs the input relations of a unit test to exist (it reads their columns), so the project
is first built empty (``dbt build --empty``) into a scratch warehouse over an empty state store;
then ``dbt test --select test_type:unit`` runs every unit test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cpmds.state import StateStore, state_path
from cpmds.transform.build import BUILD_VARIABLE, STATE_VARIABLE
from cpmds.transform.project import DbtParseError, run_dbt


@dataclass(frozen=True)
class UnitTestResult:
    name: str
    model: str
    status: str
    message: str


def run_dbt_unit_tests(scratch: Path) -> list[UnitTestResult]:
    """Every dbt unit test's result; ``scratch`` is an empty folder to build in."""
    home = scratch / "home"
    StateStore.open(home).close()  # an empty store: every landing table, no rows
    target = scratch / "target"
    variables = {
        BUILD_VARIABLE: str(scratch / "cpmds.duckdb"),
        STATE_VARIABLE: str(state_path(home)),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(scratch / "logs"),
    }
    _dbt(["build", "--empty", "--exclude-resource-type", "unit_test", "test"], variables)
    _dbt(["test", "--select", "test_type:unit"], variables, check=False)
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    return [
        UnitTestResult(
            name=result["unique_id"].split(".")[-1],
            model=result["unique_id"].split(".")[-2],
            status=result["status"],
            message=result.get("message") or "",
        )
        for result in results
    ]


def _dbt(arguments: list[str], variables: dict[str, str], check: bool = True) -> None:
    result = run_dbt(arguments, variables)
    if check and result.returncode != 0:
        raise DbtParseError(f"dbt {' '.join(arguments)} failed:\n{result.stdout}{result.stderr}")
