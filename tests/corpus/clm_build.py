"""The bad-input CLM export corpus: export folders wrong in one way each, with what must happen.

``python -m tests.corpus.clm_build`` writes ``tests/corpus/clm/<case>/<export id>/`` (JSON Lines
files and ``manifest.json``) and ``tests/corpus/clm/expected.json``. Each case folder is a
``clm.export_folder`` of its own. An expectation is ``{"case", "objects": {object: {"rows_in",
"landed", "quarantined": {line: reason fragment}}}}``, or ``{"case", "error": fragment}`` when
the export is refused as a whole (nothing of it may land).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "clm"
EXPORT_ID = "clm-export-20250301T000000000000Z"

Expect = dict[str, Any]
Line = dict[str, Any] | str | bytes


def contract(n: int, **values: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"K-{n:07d}", "title": f"Supply contract {n}", "contract_type": "Purchase",
        "status": "Executed", "counterparty_id": f"CPTY-{n:07d}", "business_unit": "NA-US-MFG",
        "effective_date": "2025-03-01", "expiration_date": "2027-02-28",
        "owner_name": "Ana Lopez", "owner_email": "ana.lopez@example.com",
        "amendment_number": 0, "created_at": "2025-01-10T08:00:00Z",
        "updated_at": f"2025-02-01T08:00:{n % 60:02d}Z",
    }  # fmt: skip
    item.update(values)
    return item


def counterparty(n: int, **values: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"CPTY-{n:07d}", "name": f"Counterparty {n} Ltd", "tax_id": f"{n:09d}",
        "vendor_account": None, "business_unit": "NA-US-MFG", "country": "US",
        "address": {"street": f"{n} Main Street", "city": "Buffalo", "zip": "14201",
                    "state": "NY"},
        "currency": "USD", "payment_terms": "Net 30 days", "email": None, "phone": None,
        "status": "active", "created_at": "2025-01-10T08:00:00Z",
        "updated_at": f"2025-02-01T09:00:{n % 60:02d}Z",
    }  # fmt: skip
    item.update(values)
    return item


def line(n: int, **values: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"AGL-{n:08d}", "agreement_id": "AGR-0000001", "line_no": n,
        "product_code": "I000022", "description": "Galvanized film", "quantity": "7150",
        "unit": "Square metre", "unit_price": "84.00", "effective_date": "2025-03-01",
        "expiration_date": "2026-02-28", "status": "active",
        "created_at": "2025-01-10T08:00:00Z", "updated_at": f"2025-02-01T10:00:{n % 60:02d}Z",
    }  # fmt: skip
    item.update(values)
    return item


def _encode(item: Line) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    return json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def export(
    root: Path,
    files: dict[str, list[Line]],
    *,
    rows: dict[str, int] | None = None,
    sha: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
    manifest: bytes | None = None,
) -> Path:
    """Write one export folder under ``root``; ``rows``/``sha``/``names`` make its manifest lie
    about a file's count, checksum or name."""
    folder = root / EXPORT_ID
    folder.mkdir(parents=True, exist_ok=True)
    listed = []
    for obj, lines in files.items():
        file = f"{obj}.jsonl"
        data = b"".join(_encode(item) + b"\n" for item in lines)
        (folder / file).write_bytes(data)
        listed.append(
            {
                "object": obj,
                "file": (names or {}).get(obj, file),
                "rows": (rows or {}).get(obj, len(lines)),
                "sha256": (sha or {}).get(obj, hashlib.sha256(data).hexdigest()),
            }
        )
    body = {"export_id": EXPORT_ID, "created_at": "2025-03-01T00:00:00Z", "since": None,
            "files": listed}  # fmt: skip
    text = manifest if manifest is not None else json.dumps(body, indent=2).encode() + b"\n"
    (folder / "manifest.json").write_bytes(text)
    return folder


def _judged(case: str, objects: dict[str, tuple[int, dict[int, str]]]) -> Expect:
    return {
        "case": case,
        "objects": {
            obj: {"rows_in": n, "landed": n - len(bad),
                  "quarantined": {str(k): v for k, v in bad.items()}}
            for obj, (n, bad) in objects.items()
        },
    }  # fmt: skip


# --- the cases -------------------------------------------------------------------------------


def malformed_json(root: Path) -> Expect:
    lines: list[Line] = [
        contract(1),
        '{"id": "K-0000002", "title": "no closing brace"',
        contract(3),
        "[1, 2, 3]",
        '"just a string"',
        "",
        contract(7),
        '{"id": "K-0000008"} trailing words',
    ]
    export(root, {"contracts": lines})
    return _judged(
        root.name,
        {"contract": (8, {2: "not valid JSON", 4: "not a JSON object", 5: "not a JSON object",
                          6: "not valid JSON", 8: "not valid JSON"})},
    )  # fmt: skip


def wrong_types(root: Path) -> Expect:
    contracts: list[Line] = [
        contract(1),
        contract(2, amendment_number="three"),
        contract(3, effective_date=20250301),
        contract(4, title={"text": "nested"}),
        contract(5, status=["Executed"]),
        contract(6, id=None),
        contract(7, updated_at=True),
        contract(8, amendment_number=2.5),
        contract(9, amendment_number="4"),  # a number as text is still a number
    ]
    counterparties: list[Line] = [
        counterparty(1),
        counterparty(2, address="1 Main Street, Buffalo"),
        counterparty(3, address=["1 Main Street"]),
        counterparty(4, name=12345),  # a number where text belongs is kept as its text
    ]
    lines: list[Line] = [
        line(1),
        line(2, quantity="1,5"),
        line(3, unit_price={"amount": 84}),
        line(4, line_no="first"),
        line(5, quantity=12.5, unit_price=3),
    ]
    export(root, {"contracts": contracts, "counterparties": counterparties,
                  "agreement-lines": lines})  # fmt: skip
    return _judged(
        root.name,
        {
            "contract": (9, {2: "amendment_number: 'three'", 3: "effective_date",
                             4: "title: expected a string", 5: "status: expected a string",
                             6: "id: required", 7: "updated_at", 8: "amendment_number: '2.5'"}),
            "counterparty": (4, {2: "address: expected an object",
                                 3: "address: expected an object"}),
            "agreement_line": (5, {2: "quantity: '1,5'", 3: "unit_price: expected a decimal",
                                   4: "line_no: 'first'"}),
        },
    )  # fmt: skip


def wrong_encoding(root: Path) -> Expect:
    latin1 = json.dumps(contract(2, title="Café Crème"), ensure_ascii=False).encode("latin-1")
    export(root, {"contracts": [contract(1), latin1, contract(3, title="Ærø — 株式会社")]})
    return _judged(root.name, {"contract": (3, {2: "not UTF-8"})})


def utf16_file(root: Path) -> Expect:
    folder = export(root, {"contracts": [contract(1), contract(2)]})
    path = folder / "contracts.jsonl"
    data = path.read_bytes().decode("utf-8").encode("utf-16")
    path.write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][0]["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return {"case": root.name, "error": "contracts.jsonl: is UTF-16 text"}


def utf8_byte_order_mark(root: Path) -> Expect:
    folder = export(root, {"contracts": [contract(1), contract(2)]})
    path = folder / "contracts.jsonl"
    data = codecs.BOM_UTF8 + path.read_bytes()
    path.write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][0]["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return _judged(root.name, {"contract": (2, {})})


def impossible_dates(root: Path) -> Expect:
    lines: list[Line] = [
        contract(1),
        contract(2, effective_date="2025-02-30"),
        contract(3, expiration_date="13/1/2025"),
        contract(4, updated_at="2025-13-01T00:00:00Z"),
        contract(5, effective_date="3/1/2025"),  # en-US is accepted as it is for packages
    ]
    export(root, {"contracts": lines})
    return _judged(
        root.name,
        {"contract": (5, {2: "effective_date: '2025-02-30'", 3: "expiration_date: '13/1/2025'",
                          4: "updated_at"})},
    )  # fmt: skip


def nul_bytes(root: Path) -> Expect:
    lines: list[Line] = [
        contract(1),
        contract(2, title="before\u0000after"),
        b'{"id": "K-0000003", "title": "raw\x00byte"}',
        contract(4),
    ]
    export(root, {"contracts": lines})
    return _judged(root.name, {"contract": (4, {2: "title: a NUL character", 3: "not valid JSON"})})


def duplicate_ids(root: Path) -> Expect:
    same = contract(2)
    lines: list[Line] = [contract(1), same, contract(3), same, contract(2, title="changed")]
    export(root, {"contracts": lines})
    clash = (
        "duplicate key (id, updated_at) = (K-0000002, 2025-02-01T08:00:02Z): rows 2, 4, 5 differ"
    )
    return _judged(root.name, {"contract": (5, {2: clash, 4: clash, 5: clash})})


def extra_and_missing_fields(root: Path) -> Expect:
    bare = {"id": "K-0000002", "contract_type": "Purchase", "status": "Executed",
            "counterparty_id": "CPTY-0000002", "business_unit": "NA-US-MFG",
            "updated_at": "2025-02-01T08:00:02Z"}  # fmt: skip
    lines: list[Line] = [contract(1, surprise="new field"), bare, contract(3)]
    export(root, {"contracts": lines})
    return _judged(root.name, {"contract": (3, {})})


def empty_files(root: Path) -> Expect:
    export(root, {"contracts": [], "counterparties": [counterparty(1)]})
    return _judged(root.name, {"contract": (0, {}), "counterparty": (1, {})})


def manifest_lies_rows(root: Path) -> Expect:
    export(root, {"contracts": [contract(n) for n in range(1, 6)]}, rows={"contracts": 7})
    return {"case": root.name, "error": "5 rows, the manifest says 7"}


def manifest_lies_sha(root: Path) -> Expect:
    export(root, {"contracts": [contract(1)]}, sha={"contracts": "0" * 64})
    return {"case": root.name, "error": "SHA-256 differs"}


def manifest_missing_file(root: Path) -> Expect:
    export(root, {"contracts": [contract(1)]}, names={"contracts": "contracts-part2.jsonl"})
    return {"case": root.name, "error": "missing"}


def manifest_unsafe_path(root: Path) -> Expect:
    export(root, {"contracts": [contract(1)]}, names={"contracts": "../../etc/passwd"})
    return {"case": root.name, "error": "unsafe path"}


def manifest_not_json(root: Path) -> Expect:
    export(root, {"contracts": [contract(1)]}, manifest=b"{'files': oops")
    return {"case": root.name, "error": "not valid JSON"}


def manifest_wrong_types(root: Path) -> Expect:
    body = {"export_id": EXPORT_ID, "files": [{"object": "contracts", "file": "contracts.jsonl",
                                               "rows": "1", "sha256": "x"}]}  # fmt: skip
    export(root, {"contracts": [contract(1)]}, manifest=json.dumps(body).encode())
    return {"case": root.name, "error": "lacks rows or sha256"}


CASES: tuple[Callable[[Path], Expect], ...] = (
    malformed_json, wrong_types, wrong_encoding, utf16_file, utf8_byte_order_mark,
    impossible_dates, nul_bytes,
    duplicate_ids, extra_and_missing_fields, empty_files, manifest_lies_rows, manifest_lies_sha,
    manifest_missing_file, manifest_unsafe_path, manifest_not_json, manifest_wrong_types,
)  # fmt: skip


def build(folder: Path = HERE) -> list[Expect]:
    folder.mkdir(parents=True, exist_ok=True)
    expected = [case(folder / case.__name__) for case in CASES]
    text = json.dumps(expected, indent=1, ensure_ascii=False) + "\n"
    (folder / "expected.json").write_text(text, encoding="utf-8")
    return expected


def huge_field(root: Path, megabytes: int = 5) -> Expect:
    """A contract whose title is several megabytes of text."""
    rnd = random.Random(11)
    words = ["supply", "frame", "annex", "clause", "rebate", "volume", "term", "schedule"]
    title = " ".join(rnd.choice(words) for _ in range(megabytes * 150_000))
    export(root, {"contracts": [contract(1), contract(2, title=title), contract(3)]})
    return _judged(root.name, {"contract": (3, {})})


def build_large(folder: Path) -> list[Expect]:
    return [huge_field(folder / "huge_field")]


if __name__ == "__main__":
    for item in build():
        print(item["case"])
