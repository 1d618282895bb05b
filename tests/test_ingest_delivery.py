"""Parsing a delivery's place in the landing zone (extracts.md, "Files")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cpmds.ingest import REJECTION_MESSAGES, Delivery, Rejection, parse_delivery, parse_landing_path
from cpmds.ingest.delivery import landing_roots


def _deliver(root: Path, relative: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a,b\n", encoding="utf-8")
    return path


def test_a_good_path_is_parsed_into_its_parts(tmp_path: Path) -> None:
    path = _deliver(tmp_path, "sw/S12000036/registrations_202406_202407051430.csv")

    delivery = parse_delivery(path, tmp_path)

    assert delivery == Delivery(
        relative_path="sw/S12000036/registrations_202406_202407051430.csv",
        partner="sw",
        delivered_org="S12000036",
        org="S12000036",
        dataset_id="sw__registrations",
        period=202406,
        submitted_at=dt.datetime(2024, 7, 5, 14, 30),
        extension="csv",
    )


def test_a_relative_path_is_read_against_the_root(tmp_path: Path) -> None:
    _deliver(tmp_path, "health/S08000024/cp_medicals_202406_202407010900.xlsx")

    delivery = parse_delivery(
        Path("health/S08000024/cp_medicals_202406_202407010900.xlsx"), tmp_path
    )

    assert isinstance(delivery, Delivery)
    assert (delivery.dataset_id, delivery.extension) == ("health__cp_medicals", "xlsx")


def test_a_retired_council_code_is_mapped_to_the_current_one() -> None:
    delivery = parse_landing_path("sw/S12000015/children_202406_202407051430.csv")

    assert isinstance(delivery, Delivery)
    assert (delivery.delivered_org, delivery.org) == ("S12000015", "S12000047")


def test_the_spec_raw_prefix_is_accepted_for_a_path_checked_as_if_delivered() -> None:
    delivery = parse_landing_path("raw/police/PS/offences_202406_202407051430.csv")

    assert isinstance(delivery, Delivery)
    assert delivery.relative_path == "police/PS/offences_202406_202407051430.csv"


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("sw/registrations_202406_202407051430.csv", "bad_layout"),
        ("sw/S12000036/extra/registrations_202406_202407051430.csv", "bad_layout"),
        ("sw/S12000036/registrations_2024_202407051430.csv", "bad_file_name"),
        ("sw/S12000036/registrations_202406_202407051430.txt", "bad_file_name"),
        ("sw/S12000036/Registrations_202406_202407051430.csv", "bad_file_name"),
        ("fire/S12000036/registrations_202406_202407051430.csv", "unknown_partner"),
        ("sw/S12000036/offences_202406_202407051430.csv", "unknown_dataset"),
        ("sw/S08000024/registrations_202406_202407051430.csv", "org_not_allowed"),
        ("police/S12000036/offences_202406_202407051430.csv", "org_not_allowed"),
        ("thirdsector/SC12345/family_support_202406_202407051430.csv", "org_not_allowed"),
        ("sw/S12000036/registrations_202413_202407051430.csv", "bad_period"),
        ("sw/S12000036/registrations_202400_202407051430.csv", "bad_period"),
        ("education/S12000036/attendance_202406_202409051430.csv", "wrong_period_month"),
        ("sw/S12000036/registrations_202406_202402301430.csv", "bad_submission"),
        ("sw/S12000036/registrations_202406_202407052460.csv", "bad_submission"),
    ],
)
def test_a_bad_path_is_refused_with_its_reason(relative: str, reason: str) -> None:
    result = parse_landing_path(relative)

    assert result == Rejection(reason=reason, message=REJECTION_MESSAGES[reason])


def test_an_annual_dataset_in_its_period_month_is_accepted() -> None:
    delivery = parse_landing_path("education/S12000036/attendance_202407_202409051430.csv")

    assert isinstance(delivery, Delivery)
    assert delivery.period == 202407


def test_dot_dot_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    outside = _deliver(tmp_path, "sw/S12000036/registrations_202406_202407051430.csv")
    root.mkdir()

    by_relative = parse_delivery(
        Path("../sw/S12000036/registrations_202406_202407051430.csv"), root
    )
    by_absolute = parse_delivery(root / ".." / outside.relative_to(tmp_path), root)

    assert isinstance(by_relative, Rejection) and by_relative.reason == "outside_root"
    assert isinstance(by_absolute, Rejection) and by_absolute.reason == "outside_root"


def test_a_symlinked_file_pointing_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("a\n", encoding="utf-8")
    link = root / "sw" / "S12000036" / "registrations_202406_202407051430.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)

    result = parse_delivery(link, root)

    assert isinstance(result, Rejection) and result.reason == "outside_root"


def test_a_symlinked_folder_pointing_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    _deliver(tmp_path / "elsewhere", "S12000036/registrations_202406_202407051430.csv")
    root.mkdir()
    (root / "sw").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    result = parse_delivery(root / "sw/S12000036/registrations_202406_202407051430.csv", root)

    assert isinstance(result, Rejection) and result.reason == "outside_root"


def test_a_symlink_within_the_root_is_named_by_where_it_was_delivered(tmp_path: Path) -> None:
    target = _deliver(tmp_path, "store/blob.csv")
    link = tmp_path / "sw" / "S12000036" / "registrations_202406_202407051430.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)

    delivery = parse_delivery(link, tmp_path)

    assert isinstance(delivery, Delivery)
    assert delivery.dataset_id == "sw__registrations"


def test_rejection_messages_never_quote_the_path() -> None:
    result = parse_landing_path("sw/S12000036/C0012345_202406_202407051430.csv")

    assert isinstance(result, Rejection)
    assert "C0012345" not in result.message


def test_landing_roots_resolve_paths_as_path_resolve_does_one_directory_at_a_time(
    tmp_path: Path,
) -> None:
    root = tmp_path / "raw"
    plain = _deliver(root, "sw/S12000036/registrations_202406_202407051430.csv")
    outside = _deliver(tmp_path, "elsewhere/S12000049/registrations_202406_202407051430.csv")
    (root / "sw" / "S12000049").symlink_to(outside.parent, target_is_directory=True)
    linked_file = root / "sw" / "S12000036" / "registrations_202405_202406051430.csv"
    linked_file.symlink_to(outside)
    roots = landing_roots(root)
    paths = [
        plain,
        root / "sw" / "S12000049" / outside.name,  # in a linked folder: outside the root
        linked_file,  # a link to a file outside the root
        root / "sw" / "S12000036" / "gone.csv",  # missing
        root / "sw" / "S12000036" / ".." / ".." / ".." / "elsewhere",  # climbs out
        root / "sw" / "S12000036" / ".." / "S12000049" / outside.name,
    ]

    # Twice: the second time from the folders remembered the first time.
    for _ in range(2):
        assert [roots.resolve(path) for path in paths] == [path.resolve() for path in paths]
    assert not roots.resolve(paths[1]).is_relative_to(roots.resolved)
    assert not roots.resolve(paths[2]).is_relative_to(roots.resolved)
