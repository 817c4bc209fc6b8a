"""OData ``$batch``: atomic changesets, per-part statuses, Content-IDs, the 5,000 limit."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from emulator.server import EmulatorInfo
from tests.integration.emulator.conftest import Scm


def _part(method: str, url: str, body: dict[str, Any] | None, content_id: int | None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{method} {url} HTTP/1.1", "OData-Version: 4.0", "OData-MaxVersion: 4.0"]
    if body is not None:
        lines += ["Content-Type: application/json;odata.metadata=minimal", "", json.dumps(body)]
    else:
        lines += ["Accept: application/json", ""]
    return "\r\n".join(lines) + "\r\n"


def _batch(
    *items: list[tuple[str, str, dict[str, Any] | None]] | tuple[str, str, None],
) -> tuple[str, str]:
    """Build a multipart body: a list is a changeset, a tuple a request outside changesets."""
    out = []
    content_id = 0
    for item in items:
        out.append("--batch_1\r\n")
        if isinstance(item, list):
            out.append("Content-Type: multipart/mixed; boundary=changeset_1\r\n\r\n")
            for method, url, body in item:
                content_id += 1
                out.append("--changeset_1\r\n" + _part(method, url, body, content_id))
            out.append("--changeset_1--\r\n")
        else:
            out.append(_part(item[0], item[1], None, None))
    out.append("--batch_1--\r\n")
    return "".join(out), "multipart/mixed; boundary=batch_1"


def _send(scm: Scm, body: str, content_type: str) -> tuple[int, list[tuple[str | None, int, str]]]:
    response = scm.session.post(
        f"{scm.root}/$batch", data=body.encode(), headers={"Content-Type": content_type}, timeout=60
    )
    boundary = re.search(r"boundary=(\S+)", response.headers["Content-Type"]).group(1)  # type: ignore[union-attr]
    assert response.text.rstrip().endswith(f"--{boundary}--")
    parts = []
    for match in re.finditer(
        r"(?:Content-ID: (?P<id>\S+)\r\n)?\r\nHTTP/1.1 (?P<status>\d{3}) [^\r]*\r\n"
        r"(?P<rest>.*?)(?=\r\n--)",
        response.text,
        re.S,
    ):
        body_text = match.group("rest").split("\r\n\r\n", 1)[-1]
        parts.append((match.group("id"), int(match.group("status")), body_text))
    return response.status_code, parts


def _vendor(name: str, **extra: Any) -> dict[str, Any]:
    return {"VendorOrganizationName": name, "VendorGroupId": "10", "CurrencyCode": "USD", **extra}


def test_changeset_applies_all_operations_with_their_content_ids(
    scm: Scm, emu: EmulatorInfo
) -> None:
    body, kind = _batch(
        [
            ("POST", f"{emu.scm_url}/data/VendorsV2", _vendor("Batch A")),
            ("POST", "VendorsV2", _vendor("Batch B")),
            (
                "PATCH",
                "VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000002')",
                {"VendorSearchName": "b2"},
            ),
        ],
        ("GET", "Currencies('USD')", None),
    )
    status, parts = _send(scm, body, kind)
    assert status == 200
    assert [(p[0], p[1]) for p in parts] == [("1", 201), ("2", 201), ("3", 204), (None, 200)]
    created = [json.loads(p[2])["VendorAccountNumber"] for p in parts[:2]]
    assert created[0] != created[1]
    assert json.loads(parts[3][2])["CurrencyCode"] == "USD"
    names = scm.get("VendorsV2?$filter=VendorOrganizationName eq 'Batch*'&$count=true").json()
    assert names["@odata.count"] == 2


def test_one_failing_operation_rolls_back_its_changeset_only(scm: Scm) -> None:
    before = scm.get("VendorsV2/$count").content
    body, kind = _batch(
        [
            ("POST", "VendorsV2", _vendor("Rolled back 1")),
            (
                "PATCH",
                "VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000003')",
                {"VendorSearchName": "gone"},
            ),
            ("POST", "VendorsV2", _vendor("Rolled back 2", CurrencyCode="XXX")),
            ("POST", "VendorsV2", _vendor("Never tried")),
        ],
        [("POST", "VendorsV2", _vendor("Other changeset"))],
    )
    status, parts = _send(scm, body, kind)
    assert status == 200
    assert [(p[0], p[1]) for p in parts] == [("3", 500), ("5", 201)]
    error = json.loads(parts[0][2])["error"]["innererror"]
    assert error["type"].endswith("AxODataWriteException")
    assert "'XXX' in field 'CurrencyCode'" in error["message"]
    count_after = int(scm.get("VendorsV2/$count").content.decode("utf-8-sig"))
    assert count_after == int(before.decode("utf-8-sig")) + 1  # only the other changeset
    vendor3 = scm.get("VendorsV2(dataAreaId='usmf',VendorAccountNumber='US-V0000003')").json()
    assert vendor3["VendorSearchName"] != "gone"
    assert (
        scm.get("VendorsV2?$filter=VendorOrganizationName eq 'Rolled back*'").json()["value"] == []
    )


def test_numbers_used_by_a_rolled_back_changeset_are_given_again(scm: Scm) -> None:
    body, kind = _batch(
        [
            ("POST", "VendorsV2", _vendor("Try 1")),
            ("POST", "VendorsV2", _vendor("Bad", VendorGroupId="")),
        ]
    )
    _, parts = _send(scm, body, kind)
    assert parts[0][1] == 500
    created = scm.post("VendorsV2", _vendor("After rollback"))
    body2, kind2 = _batch([("POST", "VendorsV2", _vendor("Try 2"))])
    _, parts2 = _send(scm, body2, kind2)
    numbers = [
        created.json()["VendorAccountNumber"],
        json.loads(parts2[0][2])["VendorAccountNumber"],
    ]
    assert int(numbers[1][-7:]) == int(numbers[0][-7:]) + 1


def test_get_inside_a_changeset_fails_the_changeset(scm: Scm) -> None:
    body, kind = _batch(
        [("POST", "Currencies", {"CurrencyCode": "SEK"}), ("GET", "Currencies", None)]
    )
    _, parts = _send(scm, body, kind)
    assert [p[1] for p in parts] == [400]
    assert scm.get("Currencies('SEK')").status_code == 404


def test_more_than_5000_operations_are_refused(scm: Scm) -> None:
    body, kind = _batch(*[("GET", "Currencies('USD')", None)] * 5001)
    response = scm.session.post(
        f"{scm.root}/$batch", data=body.encode(), headers={"Content-Type": kind}, timeout=60
    )
    assert response.status_code == 400
    assert "maximum number of '5000'" in response.json()["error"]["message"]
    body, kind = _batch(*[("GET", "Currencies('USD')", None)] * 3)
    assert _send(scm, body, kind)[0] == 200


def test_batch_needs_a_multipart_body(scm: Scm) -> None:
    response = scm.session.post(f"{scm.root}/$batch", json={"requests": []}, timeout=60)
    assert response.status_code == 400


def _line(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "PurchaseAgreementLegalEntityId": "usmf",
        "ExternalContractId": "K-0000002",
        "ExternalContractLineId": f"AGL-7{number:07d}",
        "ItemNumber": "I000004",
        "UnitSymbol": "ea",
        "Price": number,
        **extra,
    }


def test_many_creates_in_a_changeset_answer_as_one_by_one(scm: Scm) -> None:
    body, kind = _batch(
        [("POST", "CLMIntegrationPurchaseAgreementLines", _line(n)) for n in range(1, 101)]
    )
    started = time.monotonic()
    status, parts = _send(scm, body, kind)
    elapsed = time.monotonic() - started
    assert status == 200
    assert [p[0] for p in parts] == [str(n) for n in range(1, 101)]
    assert {p[1] for p in parts} == {201}
    created = [json.loads(p[2]) for p in parts]
    assert [c["LineNumber"] for c in created] == list(range(1, 101))
    assert {c["PurchaseAgreementId"] for c in created} == {"PA0000002"}
    assert [c["Price"] for c in created] == [float(n) for n in range(1, 101)]
    assert elapsed < 10  # one set-based write, not a hundred


def test_a_failing_create_among_many_names_its_content_id(scm: Scm) -> None:
    lines = [_line(200 + n) for n in range(5)]
    lines[3]["UnitSymbol"] = "crate"
    body, kind = _batch([("POST", "CLMIntegrationPurchaseAgreementLines", line) for line in lines])
    _, parts = _send(scm, body, kind)
    assert [(p[0], p[1]) for p in parts] == [("4", 500)]
    assert "'crate' in field 'UnitSymbol'" in parts[0][2]
    found = scm.get(
        "CLMIntegrationPurchaseAgreementLines?$filter=ExternalContractLineId eq 'AGL-70000200'"
    )
    assert found.json()["value"] == []
