"""The `cpmds` command: every command of interface.md exists."""

import pytest
from click.testing import CliRunner

from cpmds.cli import main

INTERFACE_COMMANDS = [
    "demo", "generate", "validate", "run", "backfill", "status", "ui", "rotate-key", "report",
    "bench",
]  # fmt: skip


def test_every_interface_command_exists():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in INTERFACE_COMMANDS:
        assert f"  {command} " in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--councils", "forty"], "--councils must be 'all' or a number"),
        (["--councils", "33"], "between 1 and 32"),
        (["--from", "202407", "--to", "202401"], "--from must not be after --to"),
        (["--from", "202413"], "202413"),
        (["--scale", "0"], "--scale"),
    ],
)
def test_generate_rejects_bad_options_with_usage_errors(arguments, message, tmp_path):
    result = CliRunner().invoke(main, ["generate", "--out", str(tmp_path / "raw"), *arguments])
    assert result.exit_code == 2
    assert message in result.output


def test_generate_writes_the_contract_layout(tmp_path):
    out = tmp_path / "raw"
    arguments = ["generate", "--out", str(out), "--councils", "1", "--scale", "0.2", "--quiet"]
    result = CliRunner().invoke(main, [*arguments, "--from", "202406", "--to", "202407"])
    assert result.exit_code == 0, result.output
    partners = {path.name for path in out.iterdir()}
    assert partners == {"sw", "police", "health", "education", "scra", "nrs"} | (
        {"thirdsector"} & partners
    )
    assert all(folder.name.startswith("S12") for folder in (out / "sw").iterdir())
    assert "Wrote" in result.output
    assert not (tmp_path / "raw.defects.json").exists()


def test_generate_refuses_a_directory_that_holds_files(tmp_path):
    out = tmp_path / "raw"
    out.mkdir()
    (out / "keep.txt").write_text("a partner's file")
    result = CliRunner().invoke(main, ["generate", "--out", str(out), "--councils", "1", "--quiet"])
    assert result.exit_code == 2
    assert "already holds files" in result.output
    assert (out / "keep.txt").read_text() == "a partner's file"


def test_status_of_a_home_without_runs(tmp_path):
    result = CliRunner().invoke(main, ["status", "--home", str(tmp_path)])
    assert result.exit_code == 0
    assert "No runs yet" in result.output


def test_run_refuses_a_landing_zone_that_is_not_there(tmp_path):
    arguments = ["run", "--raw", str(tmp_path / "nowhere"), "--home", str(tmp_path / "home")]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2
    assert "is not a directory" in result.output


def test_rotate_key_makes_a_new_key_and_keeps_the_old_one(tmp_path, monkeypatch):
    monkeypatch.delenv("CPMDS_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("CPMDS_PSEUDONYM_KEY_FILE", raising=False)
    from cpmds.pseudonymise import generated_key_path, load_key

    first, _ = load_key(tmp_path)
    result = CliRunner().invoke(main, ["rotate-key", "--home", str(tmp_path), "--yes"])
    assert result.exit_code == 0, result.output
    second, _ = load_key(tmp_path)
    assert first != second
    retired = list(generated_key_path(tmp_path).parent.glob("*.retired-*"))
    assert len(retired) == 1
    assert first.hex() not in result.output


def test_rotate_key_asks_before_it_acts(tmp_path):
    result = CliRunner().invoke(main, ["rotate-key", "--home", str(tmp_path)], input="n\n")
    assert result.exit_code != 0
    assert not (tmp_path / "secrets").exists() or not list((tmp_path / "secrets").iterdir())
