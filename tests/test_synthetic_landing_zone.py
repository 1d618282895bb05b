"""A generated landing zone, read by the loader's own reading step, is what the contract says.

Every file name, header, code, date, boolean and CHI parses against the contract, except exactly the
defects the manifest lists, which fail the way the manifest says; and the variety real partners
produce is there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from landing import LandingZone, read_landing_zone

from cpmds.contract import load_contract
from cpmds.ingest import Delivery, FileRead, parse_delivery, parse_landing_path, read_delivery
from cpmds.synthetic import GenerateOptions, generate

CONTRACT = load_contract()
ROW_DEFECTS = {"bad_code", "impossible_date", "date_order", "invalid_chi", "duplicate_key"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("zone") / "raw"
    options = GenerateOptions.build(
        out=out, seed=11, councils=6, period_from=202301, period_to=202312, defects=True
    )
    generate(options, progress=False)
    manifest = json.loads(options.manifest_path.read_text())
    return out, manifest


@pytest.fixture(scope="module")
def zone(generated) -> LandingZone:
    return read_landing_zone(generated[0])


@pytest.fixture(scope="module")
def defects(generated) -> dict[str, dict]:
    return {entry["path"]: entry for entry in generated[1]["defects"]}


def test_the_manifest_sits_beside_the_landing_zone_and_names_every_kind(generated):
    out, manifest = generated
    assert not list(out.rglob("*.json"))
    kinds = {entry["kind"] for entry in manifest["defects"]}
    assert kinds == ROW_DEFECTS | {
        "missing_required_column", "undecodable", "mostly_bad_rows", "unparseable_name",
        "unknown_org", "duplicate_delivery", "missing_month",
    }  # fmt: skip


def test_every_defect_file_ends_as_the_manifest_expects(generated, zone, defects):
    out, _ = generated
    for path, entry in defects.items():
        if entry["expected"] == "missing":
            assert not (out / path).exists(), path
            continue
        assert (out / path).is_file(), path
        assert zone.outcomes[path].status == entry["expected"], (path, zone.outcomes[path])


def test_row_defects_fail_exactly_their_rows_columns_and_severity(zone, defects):
    for path, entry in defects.items():
        if entry["kind"] not in ROW_DEFECTS:
            continue
        failures = zone.outcomes[path].failures
        assert failures is not None, path
        found = set(failures.select("_row", "severity").iter_rows())
        if entry["kind"] == "duplicate_key":
            # Keys unique within a file is a gate-2 rule over the file, not a cell's typing.
            keys = CONTRACT.dataset_by_id[_dataset_of(path)].key
            assert failures.height == 0 and keys == tuple(entry["columns"])
            continue
        if entry["kind"] == "date_order":
            continue  # a cross-field rule of gate 2; the cells themselves are good dates
        assert found == {(row, entry["severity"]) for row in entry["rows"]}, path
        assert set(failures["column"]) == {entry["columns"][0]}, path


def test_files_without_defects_parse_cleanly(zone, defects):
    clean = [path for path in zone.outcomes if path not in defects]
    assert len(clean) > 700
    for path in clean:
        outcome = zone.outcomes[path]
        assert outcome.status in {"loaded", "superseded"}, (path, outcome.status)
        assert outcome.failures is not None and outcome.failures.height == 0, path


def test_headers_map_to_the_contract_with_only_the_known_extra_column(generated, defects):
    out, _ = generated
    unknown: set[str] = set()
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        relative = path.relative_to(out).as_posix()
        if relative in defects:
            continue
        delivery = parse_delivery(path, out)
        assert isinstance(delivery, Delivery), relative
        read = read_delivery(path, CONTRACT.dataset_by_id[delivery.dataset_id])
        assert isinstance(read, FileRead), relative
        assert not read.missing_required_columns, relative
        unknown |= {column.lower() for column in read.unknown_columns}
    assert unknown <= {"team"}


def test_the_variety_of_real_partners(generated, zone):
    out, _ = generated
    files = sorted(p for p in out.rglob("*") if p.is_file())
    raw = {p.relative_to(out).as_posix(): p.read_bytes() for p in files}
    assert any(name.startswith("health/") and name.endswith(".xlsx") for name in raw)
    assert any(content.startswith(b"\xef\xbb\xbf") for content in raw.values())
    assert any(b"\r\n" in content for content in raw.values())
    assert any(_is_windows_1252(content) for content in raw.values())
    headers = {content.split(b"\n", 1)[0] for name, content in raw.items() if name.endswith("csv")}
    assert any(b"Child ID" in h or b"CHILD_ID" in h or b"child-id" in h for h in headers)
    assert any(b"NULL" in content or b"N/A" in content for content in raw.values())
    assert any(b" 00:00:00" in content for content in raw.values())
    assert any(_is_nil_return(name, content) for name, content in raw.items())
    statuses = {outcome.status for outcome in zone.outcomes.values()}
    assert "superseded" in statuses
    assert any(frame["deleted"].any() for frame in zone.rows.values())


def test_late_files_arrive_after_their_due_date(zone):
    due_days = CONTRACT.formats.monthly_due_days
    late = 0
    for path in zone.outcomes:
        delivery = parse_landing_path(path)
        if not isinstance(delivery, Delivery):
            continue
        year, month = divmod(delivery.period, 100)
        following = dt.date(year + (month == 12), month % 12 + 1, 1)
        if CONTRACT.dataset_by_id[delivery.dataset_id].cadence == "monthly":
            due = following - dt.timedelta(days=1) + dt.timedelta(days=due_days)
            late += delivery.submitted_at.date() > due
    assert late > 0


def test_records_resent_when_they_change(zone):
    registrations = zone.rows["sw__registrations"]
    versions = registrations.group_by("_org", "registration_id").agg(pl.col("_period").n_unique())
    assert versions.filter(pl.col("_period") > 1).height > 10


def test_sibling_irds_and_multi_victim_crimes(zone):
    irds = zone.current("sw__irds").group_by("_org", "ird_id").len()
    assert irds.filter(pl.col("len") > 1).height > 0
    crimes = zone.current("police__offences").group_by("crime_id").len()
    assert crimes.filter(pl.col("len") > 1).height > 0


def test_same_seed_same_bytes(tmp_path):
    hashes = []
    for attempt in ("first", "second"):
        options = GenerateOptions.build(
            out=tmp_path / attempt / "raw",
            seed=4,
            councils=3,
            period_from=202402,
            period_to=202407,
            scale=0.5,
            defects=True,
        )
        generate(options, progress=False)
        files = sorted(p for p in options.out.rglob("*") if p.is_file())
        digest = {p.relative_to(options.out).as_posix(): _sha(p) for p in files}
        digest["manifest"] = _sha(options.manifest_path)
        hashes.append(digest)
    assert hashes[0] == hashes[1]
    assert len(hashes[0]) > 100


def _dataset_of(path: str) -> str:
    partner, _, name = path.split("/")
    dataset = name.rsplit("_", 2)[0]
    return f"{partner}__{dataset}"


def _is_windows_1252(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "ò" in content.decode("cp1252").lower()
    return False


def _is_nil_return(name: str, content: bytes) -> bool:
    return name.endswith(".csv") and content.strip().count(b"\n") == 0 and len(content) > 0


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
