"""The bad-input package corpus: each case is a package wrong in one way, with what must happen.

``python -m tests.corpus.packages_build`` writes ``tests/corpus/packages/*.zip`` and
``expected.json`` (what landing each file must do); the test suite checks that the committed
files are what this script writes, then lands each one. Cases too large to commit (a field of
several megabytes) are built by the tests into a temporary folder with :func:`build_large`.

An expectation is ``{"file", "entity", "rows_in", "landed", "quarantined": {row: reason
fragment}}`` for a file whose rows are judged one by one, or ``{"file", "error": fragment}``
for a file that cannot be used at all (nothing of it may land).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors import catalog
from tests.corpus.pkgkit import columns_of, csv_text, package, quoted, unicode_bytes, write_zip

HERE = Path(__file__).parent / "packages"
CONTRACTS = catalog.entity("CLMIntegrationContracts")
VENDORS = catalog.entity("VendorsV2")
WIDTH = len(CONTRACTS.fields)

Expect = dict[str, Any]


def contract(n: int, **values: str) -> list[str]:
    """A valid contract row (usmf), with ``values`` overriding fields by name."""
    row = {
        "LegalEntityId": "usmf",
        "ContractId": f"C{n:07d}",
        "ExternalContractId": f"K-{n:07d}",
        "ContractType": "Purchase",
        "ContractStatus": "Executed",
        "ContractName": f"Supply agreement {n}",
        "EffectiveDate": "3/1/2025 12:00:00 AM",
        "ExpirationDate": "2/28/2027 12:00:00 AM",
        "RequesterWorkerName": "Ana Lopez",
        "RequesterWorkerEmail": "ana.lopez@example.com",
        "AccountType": "Vend",
        "AccountRelationId": f"US-V{n:07d}",
        "PartyNumber": f"P{n:07d}",
        "ContactPersonId": "",
        "LatestAmendmentId": "",
        "LatestExternalAmendmentId": "",
        "AmendmentInProcess": "No",
    }
    row.update(values)
    return [row[f.name] for f in CONTRACTS.fields]


def vendor(n: int, **values: str) -> list[str]:
    """A valid vendor row (usmf), with ``values`` overriding fields by name."""
    row = dict.fromkeys(VENDORS.field_names, "")
    row.update(
        dataAreaId="usmf", VendorAccountNumber=f"US-V{n:07d}",
        VendorOrganizationName=f"Vendor {n}", VendorPartyType="Organization",
        CurrencyCode="USD", OnHoldStatus="No", CreditLimit="1500.50",
        VendorHoldReleaseDate="1/1/1900 12:00:00 AM", AddressValidFrom="1/1/2020 12:00:00 AM",
    )  # fmt: skip
    row.update(values)
    return [row[f.name] for f in VENDORS.fields]


def _header() -> list[str]:
    return columns_of(CONTRACTS)


def _contracts(path: Path, data: bytes, **kw: Any) -> None:
    package(path, {"CLM integration contract.csv": (CONTRACTS, data)}, **kw)


def _rows(path: Path, rows: list[list[str] | str], **kw: Any) -> None:
    _contracts(path, unicode_bytes(csv_text(_header(), rows)), **kw)


def _judged(
    file: str,
    rows_in: int,
    bad: dict[int, str],
    entity: str = CONTRACTS.name,
    names: list[str | None] | None = None,
) -> Expect:
    """A file judged row by row; ``names``: the contract names that must land, in row order."""
    expect: Expect = {
        "file": file, "entity": entity, "rows_in": rows_in, "landed": rows_in - len(bad),
        "quarantined": {str(k): v for k, v in bad.items()},
    }  # fmt: skip
    if names is not None:
        expect["names"] = names
    return expect


def _refused(file: str, error: str) -> Expect:
    return {"file": file, "error": error}


# --- the cases -------------------------------------------------------------------------------


def clean(path: Path) -> Expect:
    _rows(path, [contract(n) for n in range(1, 7)])
    return _judged(path.name, 6, {})


def malformed_rows(path: Path) -> Expect:
    line_break = contract(3, ContractName='Frame "A"\r\nsecond line, with a comma')
    rows: list[list[str] | str] = [
        contract(1),
        [*contract(2), "one too many"],
        line_break,  # valid: quotes doubled, a line break inside a quoted value
        contract(4)[:-2],
        contract(5),
        quoted(contract(6)).replace('"Supply agreement 6"', '"Supply agreement 6'),
        contract(7),
    ]
    return _rows(path, rows) or _judged(
        path.name, 7, {2: f"found {WIDTH + 1}", 4: f"found {WIDTH - 2}", 6: f"found {WIDTH - 1}"}
    )


def utf8_declared_unicode(path: Path) -> Expect:
    rows = [contract(1, ContractName="Müller & Söhne GmbH"), contract(2, ContractName="株式会社")]
    _contracts(path, csv_text(_header(), rows).encode("utf-8"))
    return _judged(path.name, 2, {}, names=["Müller & Söhne GmbH", "株式会社"])


def utf8_bom_declared_unicode(path: Path) -> Expect:
    rows = [contract(1, ContractName="Ærø Å/S"), contract(2)]
    _contracts(path, codecs.BOM_UTF8 + csv_text(_header(), rows).encode("utf-8"))
    return _judged(path.name, 2, {}, names=["Ærø Å/S", "Supply agreement 2"])


def utf16_be(path: Path) -> Expect:
    rows = [contract(1, ContractName="Ωmega Σ"), contract(2)]
    _contracts(path, codecs.BOM_UTF16_BE + csv_text(_header(), rows).encode("utf-16-be"))
    return _judged(path.name, 2, {}, names=["Ωmega Σ", "Supply agreement 2"])


def utf16_be_no_bom(path: Path) -> Expect:
    _contracts(path, csv_text(_header(), [contract(1)]).encode("utf-16-be"))
    return _refused(path.name, "not in the encoding its format says")


def latin1_declared_unicode(path: Path) -> Expect:
    rows = [contract(1), contract(2, ContractName="Café Crème SARL"), contract(3)]
    _contracts(path, csv_text(_header(), rows).encode("latin-1"))
    return _judged(path.name, 3, {2: "not valid in the file's encoding"})


def latin1_declared_csv(path: Path) -> Expect:
    rows = [contract(1, ContractName="Señor Ñandú"), contract(2), contract(3)]
    _contracts(path, csv_text(_header(), rows).encode("latin-1"), fmt="CSV")
    return _judged(path.name, 3, {1: "not valid in the file's encoding"})


def _without(column: str) -> tuple[list[str], bytes]:
    header = [c for c in _header() if c != column]
    skip = _header().index(column)
    rows = [[v for i, v in enumerate(contract(n)) if i != skip] for n in (1, 2)]
    return header, unicode_bytes(csv_text(header, rows))


def missing_column(path: Path) -> Expect:
    """The manifest maps CONTRACTNAME; the data file lacks it: a broken file."""
    _contracts(path, _without("CONTRACTNAME")[1])
    return _refused(path.name, "CONTRACTNAME missing from the header")


def unmapped_column(path: Path) -> Expect:
    """Neither the manifest nor the file has CONTRACTNAME (a data project mapping fewer
    fields): the rows land, the field empty."""
    header, data = _without("CONTRACTNAME")
    _contracts(path, data, columns={"CLM integration contract.csv": header})
    return _judged(path.name, 2, {}, names=[None, None])


def missing_key_column(path: Path) -> Expect:
    header, data = _without("CONTRACTID")
    _contracts(path, data, columns={"CLM integration contract.csv": header})
    return _refused(path.name, "CONTRACTID missing from the header")


def extra_column(path: Path) -> Expect:
    header = [*_header(), "SURPRISEFIELD"]
    rows = [[*contract(n), "surprise"] for n in (1, 2, 3)]
    _contracts(path, unicode_bytes(csv_text(header, rows)))
    return _judged(path.name, 3, {})


def duplicate_keys(path: Path) -> Expect:
    rows = [
        contract(1),
        contract(2, ContractName="first copy"),
        contract(3),
        contract(2, ContractName="second copy"),
        contract(4),
        contract(4),
    ]
    clash = "duplicate key (LegalEntityId, ContractId) = (usmf, C0000002): rows 2, 4 differ"
    return _rows(path, rows) or _judged(path.name, 6, {2: clash, 4: clash})


def impossible_dates(path: Path) -> Expect:
    rows = [
        contract(1),
        contract(2, EffectiveDate="2/30/2025 12:00:00 AM"),
        contract(3, ExpirationDate="13/1/2025 12:00:00 AM"),
        contract(4, EffectiveDate="2025-02-30"),
        contract(5, EffectiveDate="0/0/0000 12:00:00 AM"),
        contract(6, EffectiveDate="2025-03-01"),  # ISO 8601 is accepted too
        contract(7, ExpirationDate="next Tuesday"),
    ]
    return _rows(path, rows) or _judged(
        path.name, 7,
        {2: "EffectiveDate: '2/30/2025", 3: "ExpirationDate: '13/1/2025", 4: "EffectiveDate",
         5: "EffectiveDate", 7: "ExpirationDate: 'next Tuesday'"},
    )  # fmt: skip


def nul_bytes(path: Path) -> Expect:
    rows = [
        contract(1),
        contract(2, ContractName="before\x00after"),
        contract(3, ContractId="C\x000000003"),
        contract(4),
    ]
    return _rows(path, rows) or _judged(path.name, 4, {2: "a NUL character", 3: "a NUL character"})


def bad_numbers(path: Path) -> Expect:
    rows = [
        vendor(1),
        vendor(2, CreditLimit="1,500.50"),
        vendor(3, CreditLimit="abc"),
        vendor(4, CreditLimit="-12.5"),
        vendor(5, VendorHoldReleaseDate="31/12/2025 12:00:00 AM"),
    ]
    data = unicode_bytes(csv_text(columns_of(VENDORS), rows))
    package(path, {"Vendors V2.csv": (VENDORS, data)})
    return _judged(
        path.name, 5, {2: "CreditLimit: '1,500.50'", 3: "CreditLimit: 'abc'",
                       5: "VendorHoldReleaseDate"}, VENDORS.name,
    )  # fmt: skip


def empty_data_file(path: Path) -> Expect:
    _contracts(path, b"")
    return _refused(path.name, "empty")


def header_only(path: Path) -> Expect:
    _rows(path, [])
    return _judged(path.name, 0, {})


def empty_zip_file(path: Path) -> Expect:
    path.write_bytes(b"")
    return _refused(path.name, "not a readable zip")


def not_a_zip(path: Path) -> Expect:
    path.write_bytes(b"LegalEntityId,ContractId\r\nusmf,C0000001\r\n")
    return _refused(path.name, "not a readable zip")


def no_manifest(path: Path) -> Expect:
    data = unicode_bytes(csv_text(_header(), [contract(1)]))
    write_zip(path, [("CLM integration contract.csv", data)])
    return _refused(path.name, "not a data package")


def manifest_names_missing_file(path: Path) -> Expect:
    data = unicode_bytes(csv_text(_header(), [contract(1)]))
    package(path, {"elsewhere.csv": (CONTRACTS, data)})
    with_gap = path.with_suffix(".tmp")
    path.rename(with_gap)
    import zipfile

    with zipfile.ZipFile(with_gap) as src:
        kept = [(i.filename, src.read(i)) for i in src.infolist() if i.filename != "elsewhere.csv"]
    with_gap.unlink()
    write_zip(path, kept)
    return _refused(path.name, "not in the package")


def damaged_data_file(path: Path) -> Expect:
    """The data file's CRC in both zip headers is wrong: found only once it is read to the end,
    after its first rows went into the warehouse's transaction (20,000 rows: 8 MB inflated, more
    than the reader's first chunk; not committed)."""
    _rows(path, [contract(n) for n in range(1, 20_001)])
    raw = bytearray(path.read_bytes())
    name = b"CLM integration contract.csv"
    for signature, crc_at, name_at in ((b"PK\x03\x04", 14, 30), (b"PK\x01\x02", 16, 46)):
        at = raw.find(signature)
        while raw[at + name_at : at + name_at + len(name)] != name:
            at = raw.find(signature, at + 4)
        raw[at + crc_at] ^= 0xFF
    path.write_bytes(bytes(raw))
    return _refused(path.name, "damaged")


CASES: tuple[Callable[[Path], Expect], ...] = (
    clean, malformed_rows, utf8_declared_unicode, utf8_bom_declared_unicode, utf16_be,
    utf16_be_no_bom, latin1_declared_unicode, latin1_declared_csv, missing_column,
    unmapped_column, missing_key_column, extra_column, duplicate_keys, impossible_dates,
    nul_bytes, bad_numbers, empty_data_file, header_only, empty_zip_file, not_a_zip,
    no_manifest, manifest_names_missing_file,
)  # fmt: skip


def build(folder: Path = HERE) -> list[Expect]:
    """Write every committed case into ``folder`` with ``expected.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = [case(folder / f"{case.__name__}.zip") for case in CASES]
    text = json.dumps(expected, indent=1, ensure_ascii=False) + "\n"
    (folder / "expected.json").write_text(text, encoding="utf-8")
    return expected


def huge_field(path: Path, megabytes: int = 6) -> Expect:
    """A 6 MB contract name (more than the reader's 4 MB block) between two normal rows: it is
    text, and lands whole.

    The text is not repetitive (a repetitive field would compress like a zip bomb and be
    refused as one), so the package is several megabytes and is not committed.
    """
    import random

    rnd = random.Random(7)
    words = ["supply", "frame", "annex", "clause", "rebate", "volume", "term", "schedule"]
    text = " ".join(rnd.choice(words) for _ in range(megabytes * 180_000))
    rows = [contract(1), contract(2, ContractName=text), contract(3)]
    _rows(path, rows)
    return _judged(path.name, 3, {}, names=["Supply agreement 1", text, "Supply agreement 3"])


def build_large(folder: Path) -> list[Expect]:
    """The cases built at test time (too large to commit)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [huge_field(folder / "huge_field.zip"), damaged_data_file(folder / "damaged.zip")]


if __name__ == "__main__":
    for item in build():
        print(item["file"])
