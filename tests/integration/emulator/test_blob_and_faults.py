"""Blob SAS URLs (Azure's 403 bodies, ranges) and every fault of the fault switch."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from emulator.faults import THROTTLE_MESSAGES
from emulator.server import EmulatorInfo, running_emulator
from tests.integration.emulator.conftest import Scm
from tests.integration.emulator.dmf_helpers import export, make_project, wait

AUTH_FAILED = (
    '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>'
    "Server failed to authenticate the request. Make sure the value of Authorization header is "
    "formed correctly including the signature.\nRequestId:"
)


@pytest.fixture(scope="module")
def execution(scm: Scm) -> str:
    make_project(scm, "BLOB", ["Currencies"])
    execution_id = export(scm, "BLOB")
    assert wait(scm, execution_id)[-1] == "Succeeded"
    return execution_id


def _url(scm: Scm, execution: str) -> str:
    return str(scm.value("GetExportedPackageUrl", {"executionId": execution}))


def _get(emu: EmulatorInfo, url: str, **kw: object) -> requests.Response:
    with emu.session() as plain:
        return plain.get(url, timeout=30, **kw)  # type: ignore[arg-type]


def test_download_streams_the_zip_and_supports_ranges(
    emu: EmulatorInfo, scm: Scm, execution: str
) -> None:
    url = _url(scm, execution)
    whole = _get(emu, url)
    assert whole.status_code == 200
    assert whole.content[:2] == b"PK"
    assert int(whole.headers["Content-Length"]) == len(whole.content)
    part = _get(emu, url, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == whole.content[:10]


def test_expired_url_gets_azures_403(emu: EmulatorInfo, scm: Scm, execution: str) -> None:
    # A few seconds of life, not one: a loaded machine may take a second between issuing the
    # URL and the first download. Then wait until the signed expiry has surely passed.
    emu.configure(blob_sas_lifetime=4)
    try:
        url = _url(scm, execution)
    finally:
        emu.configure(blob_sas_lifetime=3600)
    assert _get(emu, url).status_code == 200
    expiry = datetime.fromisoformat(dict(parse_qsl(urlsplit(url).query))["se"])
    time.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 1.1)
    refused = _get(emu, url)
    assert refused.status_code == 403
    assert refused.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert refused.text.startswith(AUTH_FAILED)
    assert "<AuthenticationErrorDetail>Signed expiry time [" in refused.text
    assert "has to be after signed start time [" in refused.text
    assert _get(emu, _url(scm, execution)).status_code == 200  # a new URL works


def test_wrong_signature_gets_azures_403(emu: EmulatorInfo, scm: Scm, execution: str) -> None:
    parts = urlsplit(_url(scm, execution))
    query = dict(parse_qsl(parts.query))
    query["sig"] = "A" + query["sig"][1:]
    refused = _get(emu, parts._replace(query=urlencode(query)).geturl())
    assert refused.status_code == 403
    assert refused.text.startswith(AUTH_FAILED)
    assert "Signature did not match." in refused.text


def test_write_url_cannot_read_and_missing_blob_is_404(emu: EmulatorInfo, scm: Scm) -> None:
    import json

    url = json.loads(scm.value("GetAzureWriteUrl", {"uniqueFileName": "never-written.zip"}))[
        "BlobUrl"
    ]
    assert _get(emu, url).headers["x-ms-error-code"] == "AuthorizationPermissionMismatch"
    assert emu.state is not None
    read_url = emu.state.blobs.url("never-written.zip", "r")
    missing = _get(emu, read_url)
    assert missing.status_code == 404
    assert "<Code>BlobNotFound</Code>" in missing.text


def test_blob_expired_fault(emu: EmulatorInfo, scm: Scm, execution: str) -> None:
    emu.set_fault(kind="blob_expired", count=1)
    assert _get(emu, _url(scm, execution)).status_code == 403
    assert _get(emu, _url(scm, execution)).status_code == 200


def test_truncated_download_fault(emu: EmulatorInfo, scm: Scm, execution: str) -> None:
    url = _url(scm, execution)
    size = len(_get(emu, url).content)
    emu.set_fault(kind="truncate", fraction=0.5, count=1)
    with pytest.raises(requests.exceptions.RequestException):
        _get(emu, url)
    assert len(_get(emu, url).content) == size


# --- the fault switch ------------------------------------------------------------------------


@pytest.mark.parametrize("message", sorted(THROTTLE_MESSAGES))
def test_throttle_every_nth_request_with_each_message(
    emu: EmulatorInfo, scm: Scm, message: str
) -> None:
    emu.set_fault(
        kind="throttle", path="/scm/data/Currencies", every_nth=2, retry_after=7, message=message
    )
    statuses = [scm.get("Currencies") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 429, 200, 429]
    throttled = statuses[1]
    assert throttled.headers["Retry-After"] == "7"
    text = THROTTLE_MESSAGES[message]
    if text:
        assert throttled.json()["error"]["message"] == text
    else:
        assert throttled.content == b""
    assert scm.get("LegalEntities").status_code == 200  # other paths are not throttled


def test_throttle_above_a_rate(emu: EmulatorInfo, scm: Scm) -> None:
    emu.set_fault(kind="throttle", path="/scm/data/Currencies", per_second=3)
    statuses = [scm.get("Currencies").status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_bursts(emu: EmulatorInfo, scm: Scm, status: int) -> None:
    emu.set_fault(kind="status", status=status, count=2, path="/scm/")
    statuses = [scm.get("Currencies") for _ in range(3)]
    assert [r.status_code for r in statuses] == [status, status, 200]
    if status == 500:  # never looks like a business-rule failure, so a client may retry it
        assert "AxODataWriteException" not in statuses[0].text


def test_added_latency(emu: EmulatorInfo, scm: Scm) -> None:
    emu.set_fault(kind="latency", latency_ms=300, count=1)
    started = time.monotonic()
    assert scm.get("Currencies").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    scm.get("Currencies")
    assert time.monotonic() - started < 0.3


def test_connection_dropped_mid_response(emu: EmulatorInfo, scm: Scm) -> None:
    emu.set_fault(kind="drop", path="/scm/data/VendorsV2", count=1)
    with pytest.raises(requests.exceptions.RequestException):
        scm.get("VendorsV2").json()
    assert scm.get("VendorsV2").status_code == 200


def test_token_endpoint_goes_through_the_fault_switch(emu: EmulatorInfo) -> None:
    emu.set_fault(kind="throttle", path=f"/{emu.tenant_id}/oauth2", count=1)
    with pytest.raises(requests.exceptions.HTTPError):
        emu.token()
    assert emu.token()


def test_stats_count_requests_per_endpoint(emu: EmulatorInfo, scm: Scm) -> None:
    emu.reset_stats()
    scm.get("Currencies")
    scm.get("Currencies('USD')")
    scm.get("Currencies('EUR')")
    scm.action("GetExecutionSummaryStatus", {"executionId": "x"})
    stats = emu.stats()
    assert stats["requests"] == {
        "GET /scm/data/Currencies": 1,
        "GET /scm/data/Currencies(key)": 2,
        "POST /scm/data/DataManagementDefinitionGroups/"
        "Microsoft.Dynamics.DataEntities.GetExecutionSummaryStatus": 1,
    }
    assert stats["total"] == 4
    assert stats["responses"]["GET /scm/data/Currencies(key) 200"] == 2


def test_admin_needs_its_token_and_checks_input(emu: EmulatorInfo) -> None:
    with emu.session() as plain:
        assert plain.get(f"{emu.base_url}/_emulator/stats", timeout=30).status_code == 401
        headers = {"X-Emulator-Admin": emu.admin_token}
        bad = plain.post(
            f"{emu.base_url}/_emulator/faults", json={"kind": "meteor"}, headers=headers, timeout=30
        )
        assert bad.status_code == 400
        assert "unknown fault kind" in bad.json()["error"]
        bad = plain.post(
            f"{emu.base_url}/_emulator/config", json={"page_size": 0}, headers=headers, timeout=30
        )
        assert bad.status_code == 400


def test_faults_can_be_set_at_start() -> None:
    with running_emulator(
        faults=[{"kind": "status", "status": 503, "count": 1, "path": "/scm/"}]
    ) as info:
        client = Scm(info)
        assert client.get("Currencies").status_code == 503
        assert client.get("Currencies").status_code == 200
