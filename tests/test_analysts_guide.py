"""docs/analysts.md: every worked SQL query runs against a published demo warehouse, opened
read-only as the guide says, and so does its Python example."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from published_demo import published_demo

from cpmds.publish.atomic import published_path
from cpmds.settings import PROJECT_ROOT

GUIDE = PROJECT_ROOT / "docs" / "analysts.md"
DEMO_WAREHOUSE = ".cpmds/demo/warehouse/cpmds.duckdb"


def fenced(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)


QUERIES = fenced("sql")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    settings = published_demo(tmp_path_factory.getbasetemp() / "published-demo")
    return published_path(settings.home)


def test_the_guide_has_ten_worked_queries():
    assert len(QUERIES) >= 10


@pytest.mark.parametrize("query", QUERIES, ids=[f"query-{n}" for n in range(1, len(QUERIES) + 1)])
def test_every_query_runs_read_only(warehouse, query):
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        cursor = connection.execute(query)
        assert cursor.description  # a result with named columns
        cursor.fetchall()


def test_the_queries_find_rows_in_the_demo(warehouse):
    """Most examples show something on a small demo (Scotland-wide and failure-driven ones may
    not): a guide whose queries all came back empty would teach nothing."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        answered = sum(bool(connection.execute(query).fetchall()) for query in QUERIES)
    assert answered >= len(QUERIES) - 3


def test_the_python_example_runs(warehouse):
    (example,) = [block for block in fenced("python") if DEMO_WAREHOUSE in block]
    namespace: dict = {}
    exec(example.replace(DEMO_WAREHOUSE, str(warehouse)), namespace)  # the guide's own code
    assert namespace["frame"].height == 63 and namespace["count"] >= 0
