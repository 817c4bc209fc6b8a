"""Hostile packages: zip slip, zip bombs, XML entities. Each must be refused before anything is
written anywhere.

``python -m tests.corpus.hostile_build`` writes ``tests/corpus/packages/hostile/*.zip`` and
``expected.json`` (``{"file", "error": fragment of the refusal}``). The many-entries bomb is
built at test time (:func:`build_large`): a thousand members are cheap to write, not to commit.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.corpus.packages_build import CONTRACTS, contract
from tests.corpus.pkgkit import (
    columns_of,
    csv_text,
    entity_xml,
    header_xml,
    manifest_xml,
    package,
    unicode_bytes,
    write_zip,
    xml_bytes,
)

HERE = Path(__file__).parent / "packages" / "hostile"
DATA_FILE = "CLM integration contract.csv"

Expect = dict[str, Any]


def _data(rows: int = 2) -> bytes:
    return unicode_bytes(csv_text(columns_of(CONTRACTS), [contract(n) for n in range(1, rows + 1)]))


def _with(path: Path, file: str, extra: list[tuple[str, bytes]] | None = None) -> None:
    """A valid package whose data file is stored under ``file``, plus ``extra`` members."""
    entity = entity_xml(CONTRACTS.label, file, columns_of(CONTRACTS), "CSV-Unicode", 1)
    members = [
        (file, _data()),
        ("Manifest.xml", xml_bytes(manifest_xml([entity]))),
        ("PackageHeader.xml", xml_bytes(header_xml())),
    ]
    write_zip(path, members + (extra or []))


def slip_dotdot(path: Path) -> Expect:
    _with(path, "../../escaped.csv")
    return {"file": path.name, "error": "'..' component"}


def slip_dotdot_extra_member(path: Path) -> Expect:
    _with(path, DATA_FILE, [("data/../../../escaped.txt", b"owned")])
    return {"file": path.name, "error": "'..' component"}


def slip_absolute(path: Path) -> Expect:
    _with(path, DATA_FILE, [("/tmp/clmsync-escaped.txt", b"owned")])
    return {"file": path.name, "error": "absolute path"}


def slip_windows_drive(path: Path) -> Expect:
    _with(path, DATA_FILE, [("C:\\Windows\\escaped.txt", b"owned")])
    return {"file": path.name, "error": "absolute path"}


def slip_backslash_dotdot(path: Path) -> Expect:
    _with(path, DATA_FILE, [("..\\..\\escaped.txt", b"owned")])
    return {"file": path.name, "error": "'..' component"}


def bomb_ratio(path: Path) -> Expect:
    """One member of 64 MB of zeros: about 64 KB compressed, a 1,000:1 ratio."""
    _with(path, DATA_FILE, [("padding.bin", bytes(64 << 20))])
    return {"file": path.name, "error": "zip bomb"}


def bomb_declared_size(path: Path) -> Expect:
    """The data file inflates to far more than the size its headers declare.

    The central directory and the local header both say 200 bytes (under any ratio limit);
    the deflate stream holds 8 MB. The CRC is that of the real data, so only the size lies.
    """
    real = _data(2) + bytes(8 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(real) + compressor.flush()
    _with(path, DATA_FILE)
    with zipfile.ZipFile(path) as src:
        others = [(i.filename, src.read(i)) for i in src.infolist() if i.filename != DATA_FILE]
    write_zip(path, [(DATA_FILE, b"x"), *others])
    raw = bytearray(path.read_bytes())
    _replace_member(raw, DATA_FILE, deflated, zlib.crc32(real), declared=200)
    path.write_bytes(bytes(raw))
    return {"file": path.name, "error": "unreadable data file"}


def _replace_member(raw: bytearray, name: str, deflated: bytes, crc: int, *, declared: int) -> None:
    """Swap one member's compressed data, keeping a lying uncompressed size in both headers."""
    encoded = name.encode()
    local = raw.find(b"PK\x03\x04")
    while raw[local + 30 : local + 30 + len(encoded)] != encoded:
        local = raw.find(b"PK\x03\x04", local + 4)
    name_len, extra_len = struct.unpack("<HH", raw[local + 26 : local + 30])
    data_at = local + 30 + name_len + extra_len
    old_size = struct.unpack("<I", raw[local + 18 : local + 22])[0]
    raw[data_at : data_at + old_size] = deflated
    shift = len(deflated) - old_size
    struct.pack_into("<III", raw, local + 14, crc, len(deflated), declared)
    struct.pack_into("<H", raw, local + 8, zipfile.ZIP_DEFLATED)
    central = raw.find(b"PK\x01\x02")
    while central >= 0:
        cname_len = struct.unpack("<H", raw[central + 28 : central + 30])[0]
        cname = bytes(raw[central + 46 : central + 46 + cname_len])
        offset = struct.unpack("<I", raw[central + 42 : central + 46])[0]
        if cname == encoded:
            struct.pack_into("<III", raw, central + 16, crc, len(deflated), declared)
            struct.pack_into("<H", raw, central + 10, zipfile.ZIP_DEFLATED)
        elif offset > local:
            struct.pack_into("<I", raw, central + 42, offset + shift)
        central = raw.find(b"PK\x01\x02", central + 46)
    end = raw.rfind(b"PK\x05\x06")
    directory_at = struct.unpack("<I", raw[end + 16 : end + 20])[0]
    struct.pack_into("<I", raw, end + 16, directory_at + shift)


XXE = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    '<!DOCTYPE r [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
    '<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">'
    '<!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>'
)


def _entity_with_name(name: str) -> str:
    return entity_xml(name, DATA_FILE, columns_of(CONTRACTS), "CSV-Unicode", 1)


def xxe_manifest(path: Path) -> Expect:
    manifest = manifest_xml([_entity_with_name("&xxe;")], prolog=XXE)
    package(path, {DATA_FILE: (CONTRACTS, _data())}, manifest=manifest)
    return {"file": path.name, "error": "forbidden XML"}


def xxe_parameter_entity(path: Path) -> Expect:
    prolog = '<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>'
    manifest = manifest_xml([_entity_with_name(CONTRACTS.label)], prolog=prolog)
    package(path, {DATA_FILE: (CONTRACTS, _data())}, manifest=manifest)
    return {"file": path.name, "error": "forbidden XML"}


def billion_laughs_manifest(path: Path) -> Expect:
    manifest = manifest_xml([_entity_with_name("&i;")], prolog=LAUGHS)
    package(path, {DATA_FILE: (CONTRACTS, _data())}, manifest=manifest)
    return {"file": path.name, "error": "forbidden XML"}


def billion_laughs_header(path: Path) -> Expect:
    header = header_xml(prolog=LAUGHS, description="&i;")
    package(path, {DATA_FILE: (CONTRACTS, _data())}, header=header)
    return {"file": path.name, "error": "forbidden XML"}


CASES: tuple[Callable[[Path], Expect], ...] = (
    slip_dotdot, slip_dotdot_extra_member, slip_absolute, slip_windows_drive,
    slip_backslash_dotdot, bomb_ratio, bomb_declared_size, xxe_manifest, xxe_parameter_entity,
    billion_laughs_manifest, billion_laughs_header,
)  # fmt: skip


def build(folder: Path = HERE) -> list[Expect]:
    folder.mkdir(parents=True, exist_ok=True)
    expected = [case(folder / f"{case.__name__}.zip") for case in CASES]
    (folder / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    return expected


def bomb_entries(path: Path, entries: int = 1500) -> Expect:
    """More members than any package holds (each tiny)."""
    _with(path, DATA_FILE, [(f"filler/{n:05d}.txt", b"") for n in range(entries)])
    return {"file": path.name, "error": "entries"}


def build_large(folder: Path) -> list[Expect]:
    folder.mkdir(parents=True, exist_ok=True)
    return [bomb_entries(folder / "bomb_entries.zip")]


if __name__ == "__main__":
    for item in build():
        print(item["file"])
