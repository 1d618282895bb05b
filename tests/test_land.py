"""Land: every new file under the landing zone gets one load-log row, and is read only if safe."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from cpmds.gates import load_rules
from cpmds.land import discover, land, reason_message
from cpmds.state import StateStore

NOW = dt.datetime(2024, 7, 20, 2, 0)
REGISTRATIONS_HEADER = "registration_id,child_id,registration_date,deregistration_date,"
REGISTRATIONS_HEADER += "deregistration_reason,concerns\n"
GOOD_NAME = "sw/S12000036/registrations_202406_202407051430.csv"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    zone = tmp_path / "raw"
    zone.mkdir()
    return zone


@pytest.fixture
def store(tmp_path: Path):
    with StateStore.open(tmp_path / "home") as opened:
        yield opened


def put(raw: Path, relative: str, text: str = REGISTRATIONS_HEADER) -> Path:
    path = raw / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def statuses(store: StateStore) -> dict[str, tuple[str, str | None]]:
    return {record.path: (record.status, record.reason) for record in store.files()}


# -- discovery -----------------------------------------------------------------------------------


def test_discover_lists_files_sorted_and_skips_readmes_dotfiles_and_uploads(raw: Path) -> None:
    put(raw, "README.md", "# the landing zone")
    put(raw, "sw/S12000036/registrations_202406_202407051430.csv")
    put(raw, "police/PS/irds_202406_202407051430.csv")
    put(raw, "sw/S12000036/README.md", "not at the top: a file like any other")
    put(raw, "sw/S12000036/.registrations_202406_202407061430.csv")
    put(raw, "sw/S12000036/registrations_202406_202407071430.csv.filepart")
    put(raw, "sw/S12000036/registrations_202406_202407081430.csv~")
    put(raw, "sw/.sftp/registrations_202406_202407091430.csv")
    put(raw, "sw/tmp/registrations_202406_202407101430.csv")
    found = [path.relative_to(raw).as_posix() for path in discover(raw)]
    assert found == [
        "police/PS/irds_202406_202407051430.csv",
        "sw/S12000036/README.md",
        "sw/S12000036/registrations_202406_202407051430.csv",
    ]


def test_discover_lists_links_without_following_them(raw: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    put(outside, "registrations_202406_202407051430.csv")
    (raw / "sw").mkdir()
    (raw / "sw" / "S12000036").symlink_to(outside, target_is_directory=True)
    (raw / "sw" / "x.csv").symlink_to(outside / "registrations_202406_202407051430.csv")
    found = [path.relative_to(raw).as_posix() for path in discover(raw)]
    assert found == ["sw/S12000036", "sw/x.csv"]


def test_a_missing_landing_zone_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="landing zone"):
        discover(tmp_path / "nowhere")


# -- what each new file becomes ------------------------------------------------------------------


def test_a_good_file_is_pending_with_its_delivery_size_and_digest(
    raw: Path, store: StateStore
) -> None:
    path = put(raw, "sw/S12000015/registrations_202406_202407051430.csv")
    result = land(raw, store, "run-1", NOW)
    (pending,) = result.pending["sw__registrations"]
    assert pending.path == path
    assert (pending.delivery.org, pending.delivery.delivered_org) == ("S12000047", "S12000015")
    assert pending.size == path.stat().st_size
    assert pending.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    record = store.file(pending.file_id)
    assert (record.status, record.arrived, record.run_id) == ("pending", NOW, "run-1")
    assert (record.org, record.period, record.sha256) == ("S12000047", 202406, pending.sha256)
    assert (result.new_files, result.rejected, result.duplicates) == (1, 0, 0)


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("sw/S12000036/Copy of registrations_202406_202407051430.csv", "bad_file_name"),
        ("sw/S12000999/registrations_202406_202407051430.csv", "org_not_allowed"),
        ("nobody/S12000036/registrations_202406_202407051430.csv", "unknown_partner"),
        ("sw/S12000036/offences_202406_202407051430.csv", "unknown_dataset"),
        ("sw/registrations_202406_202407051430.csv", "bad_layout"),
        ("sw/S12000036/registrations_202413_202407051430.csv", "bad_period"),
    ],
)
def test_a_file_named_or_placed_against_the_contract_is_quarantined_with_its_reason(
    raw: Path, store: StateStore, relative: str, reason: str
) -> None:
    put(raw, relative)
    result = land(raw, store, "run-1", NOW)
    assert statuses(store) == {relative: ("quarantined", load_rules().file_rule(reason).code)}
    assert result.pending == {} and result.quarantined == 1 and result.rejected == 0
    record = store.files()[0]
    assert record.decided_run_id == "run-1" and record.sha256 is not None
    assert reason_message(reason)


def test_a_name_with_shell_metacharacters_is_quarantined_and_never_run(
    raw: Path, store: StateStore, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    name = f"registrations_202406_202407051430.csv; touch {marker} $(touch {marker}) `id` '\"|&"
    relative = "sw/S12000036/" + name.replace("/", "_")
    put(raw, relative)
    land(raw, store, "run-1", NOW)
    assert statuses(store) == {
        relative: ("quarantined", load_rules().file_rule("bad_file_name").code)
    }
    assert not marker.exists()


def test_a_link_out_of_the_landing_zone_is_rejected_and_never_read(
    raw: Path, store: StateStore, tmp_path: Path
) -> None:
    secret = put(tmp_path / "elsewhere", "registrations_202406_202407051430.csv")
    put(tmp_path / "elsewhere", "S12000049/registrations_202406_202407051430.csv")
    (raw / "sw" / "S12000036").mkdir(parents=True)
    (raw / "sw" / "S12000036" / "registrations_202406_202407051430.csv").symlink_to(secret)
    (raw / "sw" / "S12000049").symlink_to(tmp_path / "elsewhere" / "S12000049")
    land(raw, store, "run-1", NOW)
    assert statuses(store) == {
        GOOD_NAME: ("rejected", "outside_root"),
        "sw/S12000049": ("rejected", "outside_root"),
    }
    assert all(record.sha256 is None and record.size is None for record in store.files())


def test_a_traversal_path_is_rejected_and_never_read(
    raw: Path, store: StateStore, tmp_path: Path
) -> None:
    put(tmp_path, "registrations_202406_202407051430.csv")
    climbing = raw / "sw" / ".." / ".." / "registrations_202406_202407051430.csv"
    result = land(raw, store, "run-1", NOW, paths=[climbing])
    assert statuses(store) == {
        "../registrations_202406_202407051430.csv": ("rejected", "outside_root")
    }
    assert store.files()[0].sha256 is None and result.pending == {}


def test_a_link_inside_the_landing_zone_is_read_under_its_delivered_name(
    raw: Path, store: StateStore
) -> None:
    target = put(raw, "sw/S12000036/registrations_202405_202406051430.csv", "other bytes\n")
    link = raw / GOOD_NAME
    link.symlink_to(target)
    result = land(raw, store, "run-1", NOW)
    assert statuses(store)[GOOD_NAME] == ("pending", None)
    assert len(result.pending["sw__registrations"]) == 2


def test_pipes_and_broken_links_are_rejected_without_hanging(raw: Path, store: StateStore) -> None:
    (raw / "sw" / "S12000036").mkdir(parents=True)
    os.mkfifo(raw / GOOD_NAME)
    broken = "sw/S12000036/registrations_202405_202406051430.csv"
    (raw / broken).symlink_to(raw / "sw" / "gone.csv")
    land(raw, store, "run-1", NOW)
    assert statuses(store) == {
        GOOD_NAME: ("rejected", "not_a_regular_file"),
        broken: ("rejected", "not_a_regular_file"),
    }


# -- duplicates ----------------------------------------------------------------------------------


def test_the_same_bytes_for_the_same_delivery_key_are_a_duplicate(
    raw: Path, store: StateStore
) -> None:
    body = REGISTRATIONS_HEADER + "R1,C1,2024-06-03,,,NEG\n"
    put(raw, GOOD_NAME, body)
    put(raw, "sw/S12000036/registrations_202406_202407091200.csv", body)
    # The retired code is the same council: its copy is the same delivery again.
    put(raw, "sw/S12000015/registrations_202406_202407051430.csv", body)
    put(raw, "sw/S12000047/registrations_202406_202407051430.csv", body)
    result = land(raw, store, "run-1", NOW)
    records = {record.path: record for record in store.files()}
    original = records[GOOD_NAME]
    copy = records["sw/S12000036/registrations_202406_202407091200.csv"]
    assert (original.status, copy.status, copy.duplicate_of) == (
        "pending",
        "duplicate",
        original.file_id,
    )
    fife_current = records["sw/S12000047/registrations_202406_202407051430.csv"]
    fife_retired = records["sw/S12000015/registrations_202406_202407051430.csv"]
    assert fife_retired.status == "pending"  # sorted first: S12000015 < S12000047
    assert (fife_current.status, fife_current.duplicate_of) == ("duplicate", fife_retired.file_id)
    assert result.duplicates == 2


def test_a_duplicate_of_a_file_landed_by_an_earlier_run_is_found(
    raw: Path, store: StateStore
) -> None:
    put(raw, GOOD_NAME)
    land(raw, store, "run-1", NOW)
    put(raw, "sw/S12000036/registrations_202406_202407301200.csv")
    result = land(raw, store, "run-2", NOW + dt.timedelta(days=1))
    assert result.duplicates == 1
    assert statuses(store)["sw/S12000036/registrations_202406_202407301200.csv"] == (
        "duplicate",
        None,
    )


def test_identical_nil_returns_of_other_months_or_senders_are_not_duplicates(
    raw: Path, store: StateStore
) -> None:
    nil_return = REGISTRATIONS_HEADER
    put(raw, "sw/S12000036/registrations_202405_202406051430.csv", nil_return)
    put(raw, "sw/S12000036/registrations_202406_202407051430.csv", nil_return)
    put(raw, "sw/S12000049/registrations_202406_202407051430.csv", nil_return)
    result = land(raw, store, "run-1", NOW)
    assert {status for status, _ in statuses(store).values()} == {"pending"}
    assert len(result.pending["sw__registrations"]) == 3


# -- re-running ----------------------------------------------------------------------------------


def test_re_running_over_the_same_landing_zone_lands_nothing_new(
    raw: Path, store: StateStore
) -> None:
    put(raw, GOOD_NAME)
    put(raw, "sw/S12000036/Copy of it.csv")
    land(raw, store, "run-1", NOW)
    before = store.files()
    again = land(raw, store, "run-2", NOW + dt.timedelta(hours=1))
    assert again.new_files == 0
    assert store.files() == before


def test_files_left_pending_by_a_run_that_died_are_offered_again(
    raw: Path, store: StateStore
) -> None:
    put(raw, GOOD_NAME)
    put(raw, "sw/S12000036/registrations_202405_202406051430.csv")
    first = land(raw, store, "run-1", NOW)
    decided, undecided = first.pending["sw__registrations"]
    store.update_file(decided.file_id, "loaded", run_id="run-1", rows=0)
    second = land(raw, store, "run-2", NOW + dt.timedelta(hours=1))
    assert second.new_files == 0
    assert [file.file_id for file in second.pending["sw__registrations"]] == [undecided.file_id]
    assert second.pending["sw__registrations"][0].delivery == undecided.delivery


def test_a_name_that_is_not_utf8_is_quarantined_and_not_landed_twice(
    raw: Path, store: StateStore
) -> None:
    folder = raw / "sw" / "S12000036"
    folder.mkdir(parents=True)
    with open(os.fsencode(folder) + b"/registrations_\xff\xfe.csv", "wb") as handle:  # noqa: PTH123
        handle.write(b"x\n")
    land(raw, store, "run-1", NOW)
    assert statuses(store) == {
        "sw/S12000036/registrations_\\xff\\xfe.csv": (
            "quarantined",
            load_rules().file_rule("bad_file_name").code,
        )
    }
    assert land(raw, store, "run-2", NOW).new_files == 0
