from __future__ import annotations

import base64
import hashlib
import logging
import zipfile
from pathlib import Path

import pytest

from connectors.blob import BlobClient, blob_name
from connectors.errors import BlobUrlExpired, DownloadError
from tests.unit.connectors.fakes import (
    Clock,
    FakeTransport,
    fake_session,
    fast_policy,
    response,
    sequence,
    truncated,
)

URL = "https://acct.blob.core.windows.net/dmf/Vendors%20pkg.zip?sv=2020&sig=SECRET%2Fsig"


def _package(tmp_path: Path) -> bytes:
    path = tmp_path / "source.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Vendors V2.csv", "x" * 5000 + "y" * 5000)
    return path.read_bytes()


def _client(transport: FakeTransport, attempts: int = 3) -> BlobClient:
    return BlobClient(fake_session(transport), fast_policy(Clock()), attempts=attempts)


def test_a_truncated_download_is_fetched_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = _package(tmp_path)
    transport = FakeTransport().on(
        "GET",
        r"Vendors",
        sequence(
            lambda r: truncated(r, data[:100], len(data)),
            lambda r: response(r, 200, data, {"Content-Length": str(len(data))}),
        ),
    )
    with caplog.at_level(logging.INFO):
        out = _client(transport).download(URL, tmp_path / "p.zip", zip_check=True)
    assert out.read_bytes() == data
    assert transport.count("GET", "Vendors") == 2
    assert not (tmp_path / "p.zip.part").exists()
    assert any("incomplete" in r.getMessage() for r in caplog.records)
    assert not any("SECRET" in r.getMessage() for r in caplog.records)


def test_short_body_with_a_short_length_is_caught_by_the_zip_check(tmp_path: Path) -> None:
    data = _package(tmp_path)
    transport = FakeTransport().on("GET", r"Vendors", lambda r: response(r, 200, data[:-30]))
    with pytest.raises(DownloadError, match="incomplete after 2 attempts"):
        _client(transport, attempts=2).download(URL, tmp_path / "p.zip", zip_check=True)
    assert not (tmp_path / "p.zip").exists()


def test_size_md5_and_sha256_checks(tmp_path: Path) -> None:
    data = _package(tmp_path)
    good_md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    transport = FakeTransport().on(
        "GET", r"Vendors", lambda r: response(r, 200, data, {"Content-MD5": good_md5})
    )
    client = _client(transport)
    client.download(URL, tmp_path / "a.zip", expected_sha256=hashlib.sha256(data).hexdigest())
    with pytest.raises(DownloadError, match="expected 1"):
        client.download(URL, tmp_path / "b.zip", expected_size=1)
    transport.on("GET", r"Vendors", lambda r: response(r, 200, data, {"Content-MD5": "AAAA"}))
    with pytest.raises(DownloadError, match="Content-MD5"):
        client.download(URL, tmp_path / "c.zip")


def test_an_expired_signature_asks_for_a_fresh_url(tmp_path: Path) -> None:
    body = "<Error><Code>AuthenticationFailed</Code><Message>Signature not valid</Message></Error>"
    transport = FakeTransport().on("GET", r"Vendors", lambda r: response(r, 403, body))
    with pytest.raises(BlobUrlExpired) as caught:
        _client(transport).download(URL, tmp_path / "p.zip")
    assert "AuthenticationFailed" in str(caught.value)
    assert "SECRET" not in str(caught.value)
    assert transport.count("GET", "Vendors") == 1


def test_missing_blob_and_server_errors(tmp_path: Path) -> None:
    transport = FakeTransport().on("GET", r"Vendors", lambda r: response(r, 404, "BlobNotFound"))
    with pytest.raises(DownloadError, match="does not exist"):
        _client(transport).download(URL, tmp_path / "p.zip")
    transport = FakeTransport().on(
        "PUT", r"Vendors", lambda r: response(r, 403, "AuthenticationFailed")
    )
    source = tmp_path / "up.zip"
    source.write_bytes(b"PK")
    with pytest.raises(BlobUrlExpired):
        _client(transport).upload(URL, source)


def test_blob_name_never_shows_the_signature() -> None:
    assert blob_name(URL) == "Vendors pkg.zip"
