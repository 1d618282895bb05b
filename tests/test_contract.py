import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from cpmds.contract import DATA_DIR, load_contract


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the real contract data with one exact text change in one file."""
    data_dir = tmp_path / "contract"
    shutil.copytree(DATA_DIR, data_dir)
    path = data_dir / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return data_dir


def test_the_contract_has_every_dataset_of_extracts_md():
    contract = load_contract()
    assert len(contract.datasets) == 18
    assert {p.id for p in contract.partners} == {
        "sw",
        "police",
        "health",
        "education",
        "scra",
        "thirdsector",
        "nrs",
    }
    assert contract.dataset("sw", "irds").key == ("ird_id", "child_id")


def test_the_reference_data_has_every_council_board_and_cpc():
    reference = load_contract().reference
    assert len(reference.councils) == 32
    assert len(reference.health_boards) == 14
    assert len(reference.cpcs) == 30
    joint = {cpc.code: cpc.councils for cpc in reference.cpcs if len(cpc.councils) > 1}
    assert joint == {
        "S12000005+S12000030": ("S12000005", "S12000030"),
        "S12000010+S12000019": ("S12000010", "S12000019"),
    }
    assert reference.scotland.code == "S92000003"


@pytest.mark.parametrize(
    ("retired", "current"),
    [
        ("S12000015", "S12000047"),
        ("S12000024", "S12000048"),
        ("S12000046", "S12000049"),
        ("S12000044", "S12000050"),
    ],
)
def test_retired_council_codes_map_to_current_ones(retired, current):
    contract = load_contract()
    assert contract.reference.current_council_code[retired] == current
    assert contract.code_list_by_id["COUNCIL"].lookup[retired] == current
    assert contract.org_allowed("sw", retired)


def test_a_column_with_an_unknown_code_list_is_refused(tmp_path):
    data_dir = broken_copy(
        tmp_path, "datasets/sw__children.yaml", "code_list: ETH", "code_list: NOPE"
    )
    with pytest.raises(ValidationError, match="unknown code list"):
        load_contract(data_dir)


def test_a_dataset_missing_from_partners_yaml_is_refused(tmp_path):
    data_dir = broken_copy(tmp_path, "partners.yaml", ", learning_reviews]", "]")
    with pytest.raises(ValidationError, match=r"partners\.yaml and datasets/ disagree"):
        load_contract(data_dir)


def test_an_unquoted_yaml_boolean_code_list_is_refused(tmp_path):
    # YAML 1.1 reads a bare OFF as False: the column must not silently lose its code list.
    data_dir = broken_copy(
        tmp_path, "datasets/police__offences.yaml", 'code_list: "OFF"', "code_list: OFF"
    )
    with pytest.raises(ValidationError):
        load_contract(data_dir)
