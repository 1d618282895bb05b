"""Keyed pseudonyms and the key that makes them (security.md).

CHIs used (see test_ingest_normalise.py for the check-digit sums): 0101011237 and 1503124568 are
valid; 0101011270 fails its check digit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import stat
from pathlib import Path

import polars as pl
import pytest

from cpmds.contract import load_contract
from cpmds.ingest import normalise_frame
from cpmds.pseudonymise import (
    KEY_FILE_VARIABLE,
    KEY_VARIABLE,
    PSEUDONYM_HEX_CHARS,
    ProtectedFrame,
    Pseudonymiser,
    PseudonymKeyError,
    UnprotectedFrameError,
    assert_protected,
    generated_key_path,
    protected_schema,
    rotate_key,
)

CONTRACT = load_contract()
CHILDREN = CONTRACT.dataset_by_id["sw__children"]
CONCERN_REPORTS = CONTRACT.dataset_by_id["police__concern_reports"]
IRDS = CONTRACT.dataset_by_id["sw__irds"]
CPPMS = CONTRACT.dataset_by_id["sw__cppms"]
SUBMITTED = dt.date(2024, 7, 5)
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
EDINBURGH, GLASGOW = "S12000036", "S12000049"


@pytest.fixture(autouse=True)
def _no_key_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)


def typed(dataset_id: str, rows: list[dict[str, str | None]]) -> pl.DataFrame:
    numbered = [{"_row": index, **row} for index, row in enumerate(rows, start=2)]
    strings = pl.DataFrame(numbered, schema_overrides={"_row": pl.Int64}, infer_schema_length=None)
    return normalise_frame(strings, CONTRACT.dataset_by_id[dataset_id], SUBMITTED).frame


def child(child_id: str = "C001", chi: str | None = "0101011237", **extra: str) -> dict:
    return {
        "child_id": child_id,
        "chi": chi,
        "date_of_birth": "2001-01-01",
        "sex": "M",
        "postcode": "EH1 1AA",
        **extra,
    }


def children(*rows: dict) -> pl.DataFrame:
    return typed("sw__children", list(rows))


def test_a_pseudonym_is_hmac_sha256_of_the_namespaced_value_cut_to_128_bits() -> None:
    expected = hmac.new(KEY, b"chi\x000101011237", hashlib.sha256).hexdigest()[:32]
    assert Pseudonymiser(KEY).pseudonym("chi", "0101011237") == expected
    assert PSEUDONYM_HEX_CHARS == len(expected) == 32


def test_pseudonyms_are_deterministic_for_a_key_and_differ_across_keys() -> None:
    first = Pseudonymiser(KEY).protect(children(child()), CHILDREN, "sw", EDINBURGH).frame
    again = Pseudonymiser(KEY).protect(children(child()), CHILDREN, "sw", EDINBURGH).frame
    other = Pseudonymiser(OTHER_KEY).protect(children(child()), CHILDREN, "sw", EDINBURGH).frame
    assert first.equals(again)
    assert first["chi"][0] != other["chi"][0]
    assert first["child_id"][0] != other["child_id"][0]


def test_the_same_chi_links_across_partners() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    social_work = pseudonymiser.protect(children(child()), CHILDREN, "sw", EDINBURGH)
    report = {
        "report_id": "R1",
        "report_date": "2024-06-01",
        "council_code": EDINBURGH,
        "chi": "010101 1237",
        "date_of_birth": "2001-01-17",
        "concern_types": "DA",
        "shared_with_sw": "Y",
    }
    police = pseudonymiser.protect(
        typed("police__concern_reports", [report]), CONCERN_REPORTS, "police", "PS"
    )
    assert social_work.frame["chi"][0] == police.frame["chi"][0]
    assert social_work.frame["chi"][0] == pseudonymiser.pseudonym("chi", "0101011237")


def test_two_councils_same_child_reference_never_collide() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    frame = children(child("C001", chi=None))
    edinburgh = pseudonymiser.protect(frame, CHILDREN, "sw", EDINBURGH).frame
    glasgow = pseudonymiser.protect(frame, CHILDREN, "sw", GLASGOW).frame
    assert edinburgh["child_id"][0] != glasgow["child_id"][0]


def test_record_references_match_within_a_sender_only() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    ird = {
        "ird_id": "IRD-C001-1",
        "child_id": "C001",
        "ird_date": "2024-06-01",
        "police_participated": "Y",
        "health_participated": "Y",
        "social_work_participated": "Y",
    }
    meeting = {
        "meeting_id": "M1",
        "child_id": "C001",
        "meeting_type": "INI",
        "meeting_date": "2024-06-10",
        "ird_id": "IRD-C001-1",
        "outcome": "REG",
    }
    irds = pseudonymiser.protect(typed("sw__irds", [ird]), IRDS, "sw", EDINBURGH).frame
    meetings = pseudonymiser.protect(typed("sw__cppms", [meeting]), CPPMS, "sw", EDINBURGH).frame
    elsewhere = pseudonymiser.protect(typed("sw__cppms", [meeting]), CPPMS, "sw", GLASGOW).frame
    assert meetings["ird_id"][0] == irds["ird_id"][0]
    assert meetings["child_id"][0] == irds["child_id"][0]
    assert elsewhere["ird_id"][0] != irds["ird_id"][0]
    # A record id and a child reference with the same text are kept apart too.
    assert pseudonymiser.pseudonym("record_ref", "X", "sw", EDINBURGH) != pseudonymiser.pseudonym(
        "child_ref", "X", "sw", EDINBURGH
    )


def test_protect_keeps_the_chi_checks_and_month_of_birth_only_and_drops_postcodes() -> None:
    frame = children(
        child("C001", "0101011237", date_of_birth="2001-01-17"),
        child("C002", "0101011270", date_of_birth="17/03/2012"),
        child("C003", None, date_of_birth=None),
    )
    protected = Pseudonymiser(KEY).protect(frame, CHILDREN, "sw", EDINBURGH).frame
    assert list(protected.schema.items()) == list(protected_schema(CHILDREN).items())
    assert "postcode" not in protected.columns
    assert protected["chi__valid"].to_list() == [True, False, None]
    assert protected["chi"][1] is None and protected["chi"][2] is None
    assert protected["chi__birth_month"].to_list() == [dt.date(2001, 1, 1), None, None]
    assert protected["chi__sex"].to_list() == ["M", None, None]
    assert protected["date_of_birth"].to_list() == [dt.date(2001, 1, 1), dt.date(2012, 3, 1), None]
    assert protected["_row"].to_list() == [2, 3, 4]


def test_protect_leaves_no_clear_identifier() -> None:
    frame = children(
        child("C001", date_of_birth="2001-01-17"),
        child("C002", "1503124568", date_of_birth="2012-03-15"),
    )
    protected = Pseudonymiser(KEY).protect(frame, CHILDREN, "sw", EDINBURGH)
    assert_protected(protected, CHILDREN)
    text = protected.frame.select(pl.all().cast(pl.Utf8)).write_csv()
    for clear in (
        "C001",
        "C002",
        "0101011237",
        "1503124568",
        "EH1 1AA",
        "2001-01-17",
        "2012-03-15",
    ):
        assert clear not in text


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda frame: frame, id="the clear typed frame"),
        pytest.param(lambda frame: frame.drop("postcode"), id="clear refs, no postcode"),
    ],
)
def test_assert_protected_refuses_clear_frames(change) -> None:
    clear = change(children(child()))
    with pytest.raises(UnprotectedFrameError):
        assert_protected(clear, CHILDREN)


def test_assert_protected_refuses_a_protected_frame_that_was_tampered_with() -> None:
    protected = Pseudonymiser(KEY).protect(children(child()), CHILDREN, "sw", EDINBURGH).frame
    clear_ref = protected.with_columns(pl.lit("C001").alias("child_id"))
    with pytest.raises(UnprotectedFrameError, match="child_id"):
        assert_protected(clear_ref, CHILDREN)
    full_birth_date = protected.with_columns(pl.lit(dt.date(2001, 1, 17)).alias("date_of_birth"))
    with pytest.raises(UnprotectedFrameError, match="date_of_birth"):
        assert_protected(full_birth_date, CHILDREN)
    extra = protected.with_columns(pl.lit("EH1 1AA").alias("notes"))
    with pytest.raises(UnprotectedFrameError, match="outside the protected schema"):
        assert_protected(extra, CHILDREN)


def test_only_protect_makes_a_protected_frame() -> None:
    with pytest.raises(TypeError):
        ProtectedFrame(
            frame=children(child()), dataset_id=CHILDREN.id, partner="sw", org=EDINBURGH, key_id=""
        )


def test_protect_refuses_a_dataset_of_another_partner() -> None:
    with pytest.raises(ValueError, match="not sent by partner"):
        Pseudonymiser(KEY).protect(children(child()), CHILDREN, "police", "PS")


def test_protect_gives_every_row_of_a_value_that_value_s_pseudonym() -> None:
    rows = [child(f"C{i % 7}", ("0101011237", "1503124568")[i % 2]) for i in range(2_000)]
    pseudonymiser = Pseudonymiser(KEY)
    protected = pseudonymiser.protect(children(*rows), CHILDREN, "sw", EDINBURGH).frame
    assert protected["chi"].n_unique() == 2
    assert protected["child_id"].n_unique() == 7
    assert protected["chi"][3] == pseudonymiser.pseudonym("chi", "1503124568")
    assert protected["child_id"][9] == pseudonymiser.pseudonym("child_ref", "C2", "sw", EDINBURGH)


# -- the key -------------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_generated_key_is_owner_only_and_the_warning_never_shows_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cpmds.pseudonymise"):
        first = Pseudonymiser.from_settings(tmp_path)
    path = generated_key_path(tmp_path)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    key_hex = path.read_text().strip()
    assert len(bytes.fromhex(key_hex)) == 32
    assert "generated demo key" in caplog.text
    assert key_hex not in caplog.text and key_hex[:16] not in caplog.text
    assert key_hex not in repr(first)
    again = Pseudonymiser.from_settings(tmp_path)
    assert again.pseudonym("chi", "0101011237") == first.pseudonym("chi", "0101011237")


def test_the_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY.hex())
    from_environment = Pseudonymiser.from_settings(tmp_path)
    assert from_environment.pseudonym("chi", "1") == Pseudonymiser(KEY).pseudonym("chi", "1")
    assert not generated_key_path(tmp_path).exists()


def test_the_key_from_a_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "pipeline.key"
    key_file.write_text(OTHER_KEY.hex() + "\n")
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    from_file = Pseudonymiser.from_settings(tmp_path / "home")
    assert from_file.pseudonym("chi", "1") == Pseudonymiser(OTHER_KEY).pseudonym("chi", "1")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_key_file_others_may_read_or_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    key_file = tmp_path / "pipeline.key"
    key_file.write_text(KEY.hex())
    key_file.chmod(mode)
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    with pytest.raises(PseudonymKeyError, match="chmod 600") as refused:
        Pseudonymiser.from_settings(tmp_path)
    assert KEY.hex() not in str(refused.value)


def test_a_malformed_or_short_key_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "not-hex-secret")
    with pytest.raises(PseudonymKeyError, match="hexadecimal") as refused:
        Pseudonymiser.from_settings(tmp_path)
    assert "not-hex-secret" not in str(refused.value)
    monkeypatch.setenv(KEY_VARIABLE, "abcd")
    with pytest.raises(PseudonymKeyError, match="shorter"):
        Pseudonymiser.from_settings(tmp_path)


def test_both_key_settings_at_once_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY.hex())
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(tmp_path / "k"))
    with pytest.raises(PseudonymKeyError, match="not both"):
        Pseudonymiser.from_settings(tmp_path)


def test_rotating_the_key_changes_every_pseudonym_and_keeps_the_old_key_aside(
    tmp_path: Path,
) -> None:
    before = Pseudonymiser.from_settings(tmp_path)
    old_key = generated_key_path(tmp_path).read_text()
    rotate_key(tmp_path)
    after = Pseudonymiser.from_settings(tmp_path)
    assert after.key_id != before.key_id
    assert after.pseudonym("chi", "0101011237") != before.pseudonym("chi", "0101011237")
    (retired,) = generated_key_path(tmp_path).parent.glob("pseudonym.key.retired-*")
    assert retired.read_text() == old_key
    assert _mode(retired) == 0o600
    assert _mode(generated_key_path(tmp_path)) == 0o600
    assert sorted(p.name for p in retired.parent.iterdir()) == sorted(
        ["pseudonym.key", retired.name]
    )


def test_rotating_a_key_file_and_refusing_an_environment_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "pipeline.key"
    key_file.write_text(KEY.hex())
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    rotate_key(tmp_path)
    assert bytes.fromhex(key_file.read_text()) != KEY
    assert len(list(tmp_path.glob("pipeline.key.retired-*"))) == 1
    monkeypatch.delenv(KEY_FILE_VARIABLE)
    monkeypatch.setenv(KEY_VARIABLE, KEY.hex())
    with pytest.raises(PseudonymKeyError, match=KEY_VARIABLE):
        rotate_key(tmp_path)


@pytest.mark.parametrize("key_bytes", [16, 32, 64, 65, 100])
def test_pseudonyms_are_hmac_sha256_whatever_the_key_length(key_bytes: int) -> None:
    key = bytes(range(7, 7 + key_bytes))
    values = ["0101011237", "C\u00e9 1", "", "x" * 200, "\x00", "C001"]
    series = pl.Series([*values, None, "C001"], dtype=pl.Utf8)
    pseudonymiser = Pseudonymiser(key)

    got = pseudonymiser._pseudonyms(series, "child_ref", "sw", "S12000036").to_list()

    prefix = b"child_ref\x00sw\x00S12000036\x00"
    expected = [
        hmac.new(key, prefix + value.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]
        for value in values
    ]
    assert got == [*expected, None, expected[-1]]
