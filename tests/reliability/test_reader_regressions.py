"""Package reader faults found by the bad-input corpus, each pinned by a small test of its own."""

from __future__ import annotations

import random
from pathlib import Path

from connectors import catalog
from connectors.package import PackageReader, RowError
from connectors.package_writer import PackageWriter

CONTRACTS = catalog.entity("CLMIntegrationContracts")


def _contract(n: int, name: str) -> dict[str, str]:
    return {"LegalEntityId": "usmf", "ContractId": f"C{n:07d}", "ContractName": name}


def test_a_row_larger_than_the_read_block_is_read_whole(tmp_path: Path) -> None:
    """A 5 MB contract name (the reader parses 4 MB blocks): every row comes through intact and
    in order, none reported as an error."""
    rnd = random.Random(3)
    huge = " ".join(rnd.choice(["supply", "frame", "annex", "rebate"]) for _ in range(700_000))
    path = tmp_path / "huge.zip"
    with PackageWriter(path, definition_group="HUGE") as writer:
        writer.add_entity(
            CONTRACTS, [_contract(1, "one"), _contract(2, huge), _contract(3, "three")]
        )
    errors: list[RowError] = []
    with PackageReader(path) as reader:
        table = reader.open_csv(CONTRACTS.label, on_error=errors.append).read_all()
    assert errors == []
    assert table.column("_row_number").to_pylist() == [1, 2, 3]
    assert table.column("ContractName").to_pylist() == ["one", huge, "three"]
