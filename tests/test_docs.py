from cpmds.catalogue import load_catalogue
from cpmds.contract import load_contract
from cpmds.docs import DOCS, render_reference_docs, write_reference_docs


def test_the_committed_docs_are_fresh():
    # Fails when the contract, the catalogue or a template changed without `cpmds docs`.
    assert write_reference_docs(check=True) == []


def test_a_changed_doc_is_reported_stale_and_rewritten(tmp_path):
    written = write_reference_docs(root=tmp_path)
    assert sorted(written) == sorted(tmp_path / relative for relative in DOCS)
    assert write_reference_docs(check=True, root=tmp_path) == []

    indicators = tmp_path / "docs/indicators.md"
    indicators.write_text(indicators.read_text(encoding="utf-8") + "edited by hand\n")
    (tmp_path / "docs/contract.md").unlink()
    stale = write_reference_docs(check=True, root=tmp_path)
    assert sorted(stale) == sorted([indicators, tmp_path / "docs/contract.md"])
    assert indicators.read_text(encoding="utf-8").endswith("edited by hand\n"), "check writes"

    assert sorted(write_reference_docs(root=tmp_path)) == sorted(stale)
    assert write_reference_docs(check=True, root=tmp_path) == []


def test_the_docs_are_deterministic_and_complete():
    docs = render_reference_docs()
    assert docs == render_reference_docs()
    for indicator in load_catalogue().indicators:
        assert f"#### {indicator.id}: {indicator.name}" in docs["docs/indicators.md"]
    for dataset in load_contract().datasets:
        assert f'<a id="{dataset.id}"></a>' in docs["docs/contract.md"]
