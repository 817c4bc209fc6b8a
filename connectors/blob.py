"""Blob storage transfers of data packages (Azure Blob SAS URLs, or the emulator's).

The SAS in the URL is the credential: no bearer token is ever sent to a blob URL, and the URL is
never logged with its signature. Downloads stream to a temporary file beside the destination and
are checked (length, ``Content-MD5`` when the store sends one, an expected size or SHA-256, the
zip's central directory) before they replace it; a truncated transfer is fetched again.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import logging
import os
import zipfile
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests

from connectors.errors import BlobUrlExpired, DownloadError, RetryDeadlineExceeded
from connectors.http import RetryPolicy
from connectors.redact import redact

log = logging.getLogger(__name__)

CHUNK = 1 << 20
MAX_SMALL_FILE = 64 << 20  # error-key files are read into memory; refuse anything huge


def blob_name(url: str) -> str:
    """The blob's file name (for messages: never the signed URL)."""
    path = urlsplit(url).path
    return unquote(path.rsplit("/", 1)[-1]) or "blob"


class _Truncated(Exception):
    """A transfer ended early or arrived altered; it is worth fetching again."""


class BlobClient:
    """Downloads and uploads against SAS URLs with the project's session and retry policy."""

    def __init__(self, session: requests.Session, policy: RetryPolicy, *, attempts: int = 3):
        self.session = session
        self.policy = policy
        self.attempts = attempts

    def _get(self, url: str, name: str) -> requests.Response:
        try:
            response = self.policy.call(
                lambda: self.session.get(url, stream=True, headers={"Accept": "*/*"}),
                what=f"download {name}",
                method="GET",
            )
        except RetryDeadlineExceeded as exc:
            raise DownloadError(name, exc.last_reason) from exc
        except requests.RequestException as exc:
            raise DownloadError(name, f"{type(exc).__name__}: {redact(str(exc))}") from exc
        _raise_for_blob(response, name)
        return response

    def download(
        self,
        url: str,
        dest: Path,
        *,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
        zip_check: bool = False,
    ) -> Path:
        """Stream ``url`` to ``dest``; raises :class:`BlobUrlExpired` when the SAS is refused."""
        name = blob_name(url)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".part")
        last = ""
        for attempt in range(1, self.attempts + 1):
            response = self._get(url, name)
            try:
                self._receive(response, partial, expected_size, expected_sha256, zip_check)
            except _Truncated as exc:
                last = str(exc)
                partial.unlink(missing_ok=True)
                if attempt < self.attempts:
                    log.info(
                        "download %s: attempt %d of %d incomplete (%s); fetching again",
                        name,
                        attempt,
                        self.attempts,
                        last,
                    )
                continue
            finally:
                response.close()
            os.replace(partial, dest)
            return dest
        raise DownloadError(
            name,
            f"incomplete after {self.attempts} attempts: {last}",
            hint="The blob store or the network cut the transfer; run again later.",
        )

    @staticmethod
    def _receive(
        response: requests.Response,
        partial: Path,
        expected_size: int | None,
        expected_sha256: str | None,
        zip_check: bool,
    ) -> None:
        sha = hashlib.sha256()
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with partial.open("wb") as out:
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
                    sha.update(chunk)
                    md5.update(chunk)
                    size += len(chunk)
        except (requests.RequestException, ConnectionError) as exc:
            # (A local disk error is an OSError too, but it is not the network's: it propagates.)
            raise _Truncated(f"connection broken after {size} bytes") from exc
        declared = response.headers.get("Content-Length")
        encoded = response.headers.get("Content-Encoding", "identity") != "identity"
        if declared and declared.isdigit() and not encoded and int(declared) != size:
            raise _Truncated(f"received {size} of {declared} bytes")
        if expected_size is not None and size != expected_size:
            raise _Truncated(f"received {size} bytes, expected {expected_size}")
        content_md5 = response.headers.get("Content-MD5")
        if content_md5 and base64.b64encode(md5.digest()).decode() != content_md5.strip():
            raise _Truncated("Content-MD5 does not match the bytes received")
        if expected_sha256 and sha.hexdigest() != expected_sha256.lower():
            raise _Truncated("SHA-256 does not match the expected checksum")
        if zip_check:
            try:
                with zipfile.ZipFile(partial) as archive:
                    archive.infolist()
            except (zipfile.BadZipFile, OSError) as exc:
                raise _Truncated(f"not a complete zip file ({exc})") from exc

    def upload(self, url: str, path: Path) -> None:
        """PUT ``path`` as a block blob (the headers Azure requires; no Authorization)."""
        name = blob_name(url)
        size = Path(path).stat().st_size

        def attempt() -> requests.Response:
            headers = {
                "x-ms-blob-type": "BlockBlob",
                "x-ms-date": formatdate(usegmt=True),
                "Content-Type": "application/zip",
                "Content-Length": str(size),
            }
            with Path(path).open("rb") as body:
                return self.session.put(url, data=body, headers=headers)

        try:
            response = self.policy.call(attempt, what=f"upload {name}", method="PUT")
        except RetryDeadlineExceeded as exc:
            raise DownloadError(name, f"upload failed: {exc.last_reason}") from exc
        except requests.RequestException as exc:
            raise DownloadError(name, f"upload failed: {type(exc).__name__}") from exc
        _raise_for_blob(response, name, verb="upload")
        log.info("uploaded %s (%d bytes)", name, size)

    def read_csv(self, url: str) -> list[dict[str, str]]:
        """A small CSV file (UTF-16 with BOM or UTF-8) as rows of text, e.g. SCM's error keys."""
        name = blob_name(url)
        response = self._get(url, name)
        with contextlib.closing(response):
            data = bytearray()
            try:
                for chunk in response.iter_content(CHUNK):
                    data.extend(chunk)
                    if len(data) > MAX_SMALL_FILE:
                        raise DownloadError(name, f"larger than {MAX_SMALL_FILE} bytes")
            except requests.RequestException as exc:
                raise DownloadError(name, f"connection broken: {type(exc).__name__}") from exc
        text = decode_text(bytes(data))
        return [dict(row) for row in csv.DictReader(io.StringIO(text, newline=""))]


def decode_text(data: bytes) -> str:
    """Text with its encoding told by the BOM (UTF-16 LE/BE, UTF-8), else UTF-8."""
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le")
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be")
    return data.decode("utf-8-sig")


def _raise_for_blob(response: requests.Response, name: str, *, verb: str = "download") -> None:
    status = response.status_code
    if status < 400:
        return
    try:
        text = response.text[:2000]
    except requests.RequestException:
        text = ""  # the error answer itself was cut short: its status still says what happened
    finally:
        response.close()
    if status == 403:
        code = ", AuthenticationFailed" if "AuthenticationFailed" in text else ""
        raise BlobUrlExpired(
            name,
            f"{verb} refused (HTTP 403{code})",
            hint="The blob URL's signature expired: ask SCM for a fresh URL and try again.",
        )
    if status == 404:
        raise DownloadError(
            name,
            "HTTP 404: the blob does not exist",
            hint="Packages stay in blob storage for 7 days; export or upload it again.",
        )
    detail = " ".join(redact(text).split())[:200]
    raise DownloadError(name, f"{verb} failed with HTTP {status}: {detail}")
