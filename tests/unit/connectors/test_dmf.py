from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import requests

from connectors.dmf import PackageApi, parse_execution_errors, parse_write_url, unwrap_value
from connectors.errors import ODataRequestError, PackageJobFailed, PackageJobTimeout
from connectors.odata import ODataClient
from tests.unit.connectors.fakes import (
    Clock,
    FakeTransport,
    StaticTokens,
    fake_session,
    fast_policy,
    response,
    sequence,
)

BASE = "https://scm.fake.test"
ACTION = r"/data/DataManagementDefinitionGroups/Microsoft\.Dynamics\.DataEntities\."


def _api(transport: FakeTransport, clock: Clock | None = None) -> tuple[PackageApi, Clock]:
    clock = clock or Clock()
    odata = ODataClient(BASE, StaticTokens(), fake_session(transport), fast_policy(clock))
    return PackageApi(odata, poll=5.0, max_poll=60.0, sleep=clock.sleep, clock=clock), clock


def _value(value: object):  # type: ignore[no-untyped-def]
    return lambda r: response(r, 200, {"@odata.context": "x#Edm.String", "value": value})


def test_export_accepts_flat_and_nested_value() -> None:
    for value in ("exec-1", {"value": "exec-1"}):
        transport = FakeTransport().on("POST", ACTION + "ExportToPackage", _value(value))
        api, _ = _api(transport)
        assert api.export_to_package("CLMSYNC-EXPORT-USMF", "vendors", "usmf") == "exec-1"
        sent = json.loads(transport.requests[0].body)  # type: ignore[arg-type]
        assert sent == {
            "definitionGroupId": "CLMSYNC-EXPORT-USMF",
            "packageName": "vendors",
            "executionId": "",
            "reExecute": False,
            "legalEntityId": "usmf",
        }
    assert unwrap_value({"value": {"value": "x"}}) == "x"


def test_write_url_value_is_json_inside_a_string() -> None:
    inner = json.dumps({"BlobId": "{1234}", "BlobUrl": "https://acct.blob/dmf/p.zip?sig=abc"})
    assert parse_write_url(inner) == ("{1234}", "https://acct.blob/dmf/p.zip?sig=abc")
    assert parse_write_url(json.dumps(inner))[1].endswith("sig=abc")  # encoded once more
    assert parse_write_url({"value": inner})[0] == "{1234}"
    with pytest.raises(ODataRequestError):
        parse_write_url("not json")


def test_execution_errors_parse_strict_json() -> None:
    text = json.dumps([{"RecordId": "5637144576", "Field": "CURRENCYCODE", "ErrorMessage": "Bad"}])
    errors = parse_execution_errors(text)
    assert [(e.record_id, e.field, e.message) for e in errors] == [
        ("5637144576", "CURRENCYCODE", "Bad")
    ]
    assert parse_execution_errors("[]") == []


def test_execution_errors_with_unescaped_quotes_and_newlines_parse_leniently() -> None:
    text = (
        '[{"RecordId":"5637144576","Field":"VENDORGROUPID","ErrorMessage":"The value "99" in field '
        '"Vendor group" is not found.\r\nValidation failed."},'
        '{"RecordId":"5637144577","Field":"CURRENCYCODE",'
        '"ErrorMessage":"Currency "XYZ" does not exist."}]'
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    errors = parse_execution_errors(text)
    assert len(errors) == 2
    assert errors[0].record_id == "5637144576"
    assert errors[0].field == "VENDORGROUPID"
    assert errors[0].message.startswith('The value "99" in field "Vendor group"')
    assert "Validation failed." in errors[0].message
    assert errors[1].message == 'Currency "XYZ" does not exist.'


def test_wait_polls_with_back_off_until_success() -> None:
    transport = FakeTransport().on(
        "POST",
        ACTION + "GetExecutionSummaryStatus",
        sequence(
            lambda r: response(
                r, 400, {"error": {"message": "Execution IDs ['exec-1'] were not found."}}
            ),
            _value("NotRun"),
            _value("Executing"),
            _value("Executing"),
            _value("Succeeded"),
        ),
    )
    api, clock = _api(transport)
    assert api.wait("exec-1", timeout=600, partially_succeeded="fail") == "Succeeded"
    assert clock.sleeps == [5.0, 7.5, 11.25, 16.875]


def test_poll_back_off_is_capped() -> None:
    transport = FakeTransport().on(
        "POST", ACTION + "GetExecutionSummaryStatus", _value("Executing")
    )
    api, clock = _api(transport)
    with pytest.raises(PackageJobTimeout) as caught:
        api.wait("exec-1", timeout=400, partially_succeeded="fail")
    assert max(clock.sleeps) == 60.0
    assert caught.value.last_status == "Executing"
    assert sum(clock.sleeps) <= 400


def test_partially_succeeded_is_the_callers_choice() -> None:
    errors = json.dumps([{"RecordId": "1", "Field": "F", "ErrorMessage": "bad row"}])
    transport = FakeTransport()
    transport.on("POST", ACTION + "GetExecutionSummaryStatus", _value("PartiallySucceeded"))
    transport.on("POST", ACTION + "GetExecutionErrors", _value(errors))
    api, _ = _api(transport)
    assert api.wait("e", timeout=60, partially_succeeded="accept") == "PartiallySucceeded"
    with pytest.raises(PackageJobFailed) as caught:
        api.wait("e", timeout=60, partially_succeeded="fail")
    assert caught.value.status == "PartiallySucceeded"
    assert caught.value.errors == ["1 F: bad row"]


def test_failed_execution_raises_with_its_errors() -> None:
    transport = FakeTransport()
    transport.on("POST", ACTION + "GetExecutionSummaryStatus", _value("Failed"))
    transport.on("POST", ACTION + "GetExecutionErrors", _value("[]"))
    api, _ = _api(transport)
    with pytest.raises(PackageJobFailed, match="ended Failed"):
        api.wait("e", timeout=60, partially_succeeded="accept")


def test_exported_package_url_waits_while_empty() -> None:
    transport = FakeTransport().on(
        "POST",
        ACTION + "GetExportedPackageUrl",
        sequence(_value(""), _value({"value": "https://blob/dmf/p.zip?sig=1"})),
    )
    api, clock = _api(transport)
    assert api.exported_package_url("e") == "https://blob/dmf/p.zip?sig=1"
    assert clock.sleeps == [5.0]


def test_import_is_never_sent_twice_after_a_timeout() -> None:
    transport = FakeTransport().on(
        "POST", ACTION + "ImportFromPackage", lambda r: requests.ReadTimeout("60 s")
    )
    api, _ = _api(transport)
    with pytest.raises(PackageJobFailed) as caught:
        api.import_from_package("https://blob/dmf/p.zip?sig=1", "CLMSYNC-IMPORT", "usmf")
    assert transport.count("POST", "ImportFromPackage") == 1
    sent = json.loads(transport.requests[0].body)  # type: ignore[arg-type]
    assert sent["executionId"].startswith("CLMSYNC-IMPORT-")
    assert caught.value.execution_id == sent["executionId"]
    assert "not sent again" in str(caught.value)
    assert sent["execute"] is True
    assert sent["overwrite"] is True


def test_import_returns_the_execution_id() -> None:
    transport = FakeTransport().on("POST", ACTION + "ImportFromPackage", _value("exec-9"))
    api, _ = _api(transport)
    assert api.import_from_package("u", "P", "usmf", execution_id="exec-9") == "exec-9"


def test_target_error_keys_file_is_generated_polled_and_read() -> None:
    csv_text = "\ufeffCONTRACTID,LEGALENTITYID\r\nC1,usmf\r\nC2,usmf\r\n".encode("utf-16-le")
    transport = FakeTransport()
    transport.on("POST", ACTION + "GenerateImportTargetErrorKeysFile", _value(True))
    transport.on(
        "POST",
        ACTION + "GetImportTargetErrorKeysFileUrl",
        sequence(_value(""), _value("https://blob/dmf/keys.csv?sig=1")),
    )
    transport.on("GET", r"keys\.csv", lambda r: response(r, 200, csv_text))
    api, _ = _api(transport)
    rows = api.target_error_keys("e", "CLM integration contract")
    assert rows == [
        {"CONTRACTID": "C1", "LEGALENTITYID": "usmf"},
        {"CONTRACTID": "C2", "LEGALENTITYID": "usmf"},
    ]
    assert "Authorization" not in transport.requests[-1].headers
    transport.on("POST", ACTION + "GenerateImportTargetErrorKeysFile", _value(False))
    assert api.target_error_keys("e", "CLM integration contract") == []


def test_delete_history_and_status() -> None:
    transport = FakeTransport()
    transport.on("POST", ACTION + "DeleteExecutionHistoryJob", lambda r: response(r, 204))
    transport.on("POST", ACTION + "GetExecutionSummaryStatus", _value("Succeeded"))
    api, _ = _api(transport)
    api.delete_execution_history("e")
    assert api.execution_status("e") == "Succeeded"
    assert json.loads(transport.requests[0].body) == {"executionId": "e"}  # type: ignore[arg-type]


def test_upload_and_download_round_trip_without_bearer(tmp_path: Path) -> None:
    package = tmp_path / "p.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("a.txt", "hello")
    stored: dict[str, bytes] = {}

    def put(request: requests.PreparedRequest) -> requests.Response:
        body = request.body
        stored["blob"] = body.read() if hasattr(body, "read") else bytes(body or b"")  # type: ignore[union-attr,arg-type]
        return response(request, 201)

    transport = FakeTransport()
    transport.on(
        "POST",
        ACTION + "GetAzureWriteUrl",
        _value(json.dumps({"BlobId": "{1}", "BlobUrl": "https://blob/dmf/p.zip?sig=1"})),
    )
    transport.on("PUT", r"blob/dmf/p\.zip", put)
    transport.on("GET", r"blob/dmf/p\.zip", lambda r: response(r, 200, stored["blob"]))
    api, _ = _api(transport)
    blob_id, url = api.azure_write_url("p.zip")
    assert blob_id == "{1}"
    api.upload(url, package)
    put_request = transport.requests[1]
    assert put_request.headers["x-ms-blob-type"] == "BlockBlob"
    assert "Authorization" not in put_request.headers
    assert transport.requests[0].headers["Authorization"].startswith("Bearer ")
    out = api.download(url, tmp_path / "down" / "p.zip", expected_size=package.stat().st_size)
    assert out.read_bytes() == package.read_bytes()
    assert "Authorization" not in transport.requests[-1].headers
