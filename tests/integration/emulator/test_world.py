"""An emulator started with ``size``/``seed``: the generated world, mutations, reset."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from emulator.server import EmulatorInfo, running_emulator
from tests.integration.emulator.conftest import FAST, Scm
from tests.integration.emulator.dmf_helpers import make_project, run_export


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorInfo]:
    state_dir = tmp_path_factory.mktemp("world-emulator")
    with running_emulator(state_dir=state_dir, size=200, seed=7, **FAST) as info:
        yield info


def _world_vendors(emu: EmulatorInfo) -> int:
    parquet = emu.state_dir / "world" / "scm" / "VendorsV2.parquet"
    return int(duckdb.sql(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchall()[0][0])


def _vendor_rows(package: bytes) -> dict[str, str]:
    """Vendor account → the whole CSV line, for every usmf vendor in an export."""
    text = zipfile.ZipFile(io.BytesIO(package)).read("Vendors V2.csv").decode("utf-16")
    return {line.split('","')[1]: line for line in text.split("\r\n")[1:] if line}


def test_the_world_is_generated_loaded_and_described(emu: EmulatorInfo, scm: Scm) -> None:
    state_dir = emu.state_dir
    described = json.loads((state_dir / "emulator.json").read_text())
    assert described["world"] == {"size": 200, "seed": 7}
    world = json.loads((state_dir / "world" / "world.json").read_text())
    assert (world["size"], world["seed"]) == (200, 7)
    truth = json.loads((state_dir / "ground_truth.json").read_text())
    assert truth["size"] == 200
    count = scm.get("VendorsV2/$count?cross-company=true").content.decode("utf-8-sig")
    assert int(count) == _world_vendors(emu) > 150
    with emu.session() as session:
        page = session.get(
            f"{emu.clm_url}/contracts?limit=5", headers={"X-Api-Key": emu.clm_api_key}, timeout=30
        )
    assert page.status_code == 200
    assert len(page.json()["data"]) == 5


def test_a_mutation_shows_up_in_the_next_incremental_export(emu: EmulatorInfo, scm: Scm) -> None:
    make_project(scm, "WORLD-USMF", ["Vendors V2"])
    first = _vendor_rows(run_export(emu, scm, "WORLD-USMF"))
    assert first
    assert _vendor_rows(run_export(emu, scm, "WORLD-USMF")) == {}
    result = emu.admin("POST", "mutate", {"fraction": 0.2, "seed": 1})
    assert Path(result["ground_truth"]).is_file()
    changed = _vendor_rows(run_export(emu, scm, "WORLD-USMF"))
    assert changed, "the mutation changed no usmf vendor"
    # only new or changed records, each with its new content
    assert all(account not in first or first[account] != line for account, line in changed.items())
    now = scm.get("VendorsV2?$select=VendorAccountNumber&$top=10000").json()["value"]
    untouched = set(first) & {v["VendorAccountNumber"] for v in now}
    assert len(untouched - set(changed)) > 0


def test_reset_reloads_the_world(emu: EmulatorInfo, scm: Scm) -> None:
    vendor = scm.get("VendorsV2?$top=1&$orderby=VendorAccountNumber").json()["value"][0]
    path = f"VendorsV2(dataAreaId='usmf',VendorAccountNumber='{vendor['VendorAccountNumber']}')"
    assert scm.patch(path, {"VendorOrganizationName": "Changed before reset"}).status_code == 204
    emu.admin("POST", "reset")
    assert scm.get(path).json()["VendorOrganizationName"] == vendor["VendorOrganizationName"]
    count = scm.get("VendorsV2/$count?cross-company=true").content.decode("utf-8-sig")
    assert int(count) == _world_vendors(emu)
