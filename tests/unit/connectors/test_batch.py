from __future__ import annotations

import json

import pytest

from connectors.batch import NOT_APPLIED, Operation, build_batch, parse_batch
from connectors.errors import ODataRequestError
from connectors.odata import ODataClient
from tests.unit.connectors.fakes import (
    Clock,
    FakeTransport,
    StaticTokens,
    fake_session,
    fast_policy,
    response,
)

DATA = "https://scm.fake.test/data"
WRITE_ERROR = json.dumps(
    {
        "error": {
            "code": "",
            "message": "An error has occurred.",
            "innererror": {
                "message": "Write failed for table row of type 'CLMIntegrationContractEntity'. "
                "Infolog: Info: The record already exists..",
                "type": "Microsoft.Dynamics.Platform.Integration.Services.OData."
                "AxODataWriteException",
            },
        }
    }
)


def _changesets() -> list[list[Operation]]:
    keys = {"LegalEntityId": "usmf", "ContractId": "C0000001"}
    return [
        [
            Operation("POST", "CLMIntegrationContracts", body={"ExternalContractId": "K-1"}),
            Operation(
                "PATCH",
                "CLMIntegrationContracts",
                keys=keys,
                body={"ContractName": "x"},
                etag='W/"abc"',
            ),
        ],
        [
            Operation("POST", "CLMIntegrationContracts", body={"ExternalContractId": "K-2"}),
            Operation("DELETE", "CLMIntegrationContracts", keys=keys),
        ],
    ]


def _answer(first: str, second: str) -> tuple[bytes, str]:
    text = (
        "--batchresponse_1\r\n"
        "Content-Type: multipart/mixed; boundary=changesetresponse_a\r\n\r\n"
        "--changesetresponse_a\r\n"
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        "Content-ID: 1\r\n\r\n"
        "HTTP/1.1 201 Created\r\nContent-Type: application/json; odata.metadata=minimal\r\n"
        "ms-dyn-aid: aid-1\r\n\r\n"
        f"{first}\r\n"
        "--changesetresponse_a\r\n"
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        "Content-ID: 2\r\n\r\n"
        "HTTP/1.1 204 No Content\r\n\r\n\r\n"
        "--changesetresponse_a--\r\n"
        "--batchresponse_1\r\n"
        "Content-Type: multipart/mixed; boundary=changesetresponse_b\r\n\r\n"
        "--changesetresponse_b\r\n"
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        "Content-ID: 4\r\n\r\n"
        "HTTP/1.1 500 Internal Server Error\r\n"
        "Content-Type: application/json; odata.metadata=minimal; charset=utf-8\r\n\r\n"
        f"{second}\r\n"
        "--changesetresponse_b--\r\n"
        "--batchresponse_1--\r\n"
    )
    return text.encode(), "multipart/mixed; boundary=batchresponse_1"


def test_request_body_has_changesets_content_ids_and_if_match() -> None:
    body, content_type, index = build_batch(DATA, _changesets())
    text = body.decode()
    assert content_type.startswith("multipart/mixed; boundary=batch_")
    assert text.count("Content-Type: multipart/mixed; boundary=changeset_") == 2
    assert [cid for group in index for cid, _ in group] == ["1", "2", "3", "4"]
    assert (
        f"PATCH {DATA}/CLMIntegrationContracts(LegalEntityId='usmf',ContractId='C0000001') HTTP/1.1"
        in text
    )
    assert 'If-Match: W/"abc"' in text
    assert "If-Match: *" in text  # the DELETE without an etag
    assert "\r\n" in text
    assert "\n\n" not in text.replace("\r\n", "")


def test_second_changeset_failing_leaves_the_first_applied() -> None:
    _, _, index = build_batch(DATA, _changesets())
    body, content_type = _answer(
        '{"ContractId":"C0000009","@odata.etag":"W/\\"e1\\""}', WRITE_ERROR
    )
    results = parse_batch(body, content_type, index)
    assert [r.status for r in results] == [201, 204, NOT_APPLIED, 500]
    assert results[0].ok
    assert results[0].body == {"ContractId": "C0000009", "@odata.etag": 'W/"e1"'}
    assert results[0].etag == 'W/"e1"'
    assert results[0].activity_id == "aid-1"
    assert results[3].error is not None
    assert "The record already exists" in results[3].error
    assert results[3].error_type is not None
    assert results[3].error_type.endswith("AxODataWriteException")
    assert results[2].error is not None
    assert "changeset failed at 4" in results[2].error
    assert [r.changeset for r in results] == [0, 0, 1, 1]


def test_a_failed_changeset_answered_as_one_bare_part_fails_all_its_operations() -> None:
    _, _, index = build_batch(DATA, _changesets())
    text = (
        "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
        "--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\n"
        "HTTP/1.1 201 Created\r\n\r\n{}\r\n"
        "--c\r\nContent-Type: application/http\r\nContent-ID: 2\r\n\r\n"
        "HTTP/1.1 204 No Content\r\n\r\n\r\n"
        "--c--\r\n"
        "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n"
        f"{WRITE_ERROR}\r\n"
        "--b--\r\n"
    )
    results = parse_batch(text.encode(), 'multipart/mixed; boundary="b"', index)
    assert [r.status for r in results] == [201, 204, 500, 500]
    assert not any(r.ok for r in results[2:])


def test_success_reported_inside_a_failed_changeset_is_rolled_back() -> None:
    _, _, index = build_batch(DATA, [_changesets()[0]])
    text = (
        "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
        "--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\n"
        "HTTP/1.1 201 Created\r\n\r\n{}\r\n"
        "--c\r\nContent-Type: application/http\r\nContent-ID: 2\r\n\r\n"
        "HTTP/1.1 412 Precondition Failed\r\n\r\n"
        '{"error":{"message":"etag mismatch"}}\r\n'
        "--c--\r\n--b--\r\n"
    )
    results = parse_batch(text.encode(), "multipart/mixed; boundary=b", index)
    assert [r.status for r in results] == [NOT_APPLIED, 412]
    assert results[1].error == "etag mismatch"


def test_answers_that_do_not_match_the_request_are_refused() -> None:
    _, _, index = build_batch(DATA, _changesets())
    with pytest.raises(ODataRequestError, match="2 changesets"):
        parse_batch(
            b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--b--",
            "multipart/mixed; boundary=b",
            index,
        )
    with pytest.raises(ODataRequestError, match="not multipart"):
        parse_batch(b"{}", "application/json", index)


def test_client_sends_one_batch_request_and_parses_it() -> None:
    body, content_type = _answer("{}", WRITE_ERROR)
    transport = FakeTransport().on(
        "POST", r"/data/\$batch$", lambda r: response(r, 200, body, {"Content-Type": content_type})
    )
    client = ODataClient(
        "https://scm.fake.test", StaticTokens(), fake_session(transport), fast_policy(Clock())
    )
    results = client.batch(_changesets())
    assert [r.ok for r in results] == [True, True, False, False]
    sent = transport.requests[0]
    assert (sent.headers.get("Content-Type") or "").startswith("multipart/mixed; boundary=batch_")
    with pytest.raises(ValueError, match="5000"):
        client.batch([[Operation("DELETE", "X", keys={"ID": i})] for i in range(5001)])
