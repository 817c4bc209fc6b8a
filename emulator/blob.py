"""Azure Blob Storage for data packages: container ``dmf`` behind expiring SAS URLs.

Blob contents are files under ``<state dir>/blobs`` (never held in memory); a blob's file name
is the SHA-256 of its name, so any name is safe on disk. A URL carries ``sv``, ``sr``, ``st``,
``se`` (expiry), ``sp`` (permissions) and ``sig`` (an HMAC over them and the blob path). GET
streams the file (ranges supported), PUT needs ``x-ms-blob-type: BlockBlob`` and answers 201;
a wrong or expired signature gets Azure's 403 ``AuthenticationFailed`` XML.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response

from emulator.responses import azure_error

if TYPE_CHECKING:
    from emulator.state import EmulatorState

SAS_VERSION = "2014-02-14"
_AUTH_MESSAGE = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is "
    "formed correctly including the signature."
)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


class BlobStore:
    """Blobs of container ``dmf`` and the SAS URLs that reach them."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.root = state.state_dir / "blobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self._key = secrets.token_bytes(32)

    def path(self, name: str) -> Path:
        return self.root / hashlib.sha256(name.encode()).hexdigest()

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def adopt(self, name: str, source: Path) -> None:
        """Make the file ``source`` the content of blob ``name`` (moved, not copied)."""
        os.replace(source, self.path(name))

    def _signature(self, name: str, sp: str, st: str, se: str) -> str:
        text = f"{sp}\n{st}\n{se}\n/blob/dmf/{name}\n{SAS_VERSION}"
        return base64.b64encode(
            hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        ).decode()

    def url(self, name: str, permission: str) -> str:
        """A SAS URL for ``name`` with ``permission`` (``r`` read, ``w`` write)."""
        now = time.time()
        lifetime = self.state.options.blob_sas_lifetime
        if self.state.faults.take(("blob_expired",), "GET", "/blob/dmf/" + name) is not None:
            lifetime = -60
        st, se = _iso(now - 300), _iso(now + lifetime)
        sig = self._signature(name, permission, st, se)
        query = (
            f"sv={SAS_VERSION}&sr=b&sig={quote(sig, safe='')}&st={quote(st)}&se={quote(se)}"
            f"&sp={permission}"
        )
        return f"{self.state.base_url}/blob/dmf/{quote(name)}?{query}"

    def name_from_url(self, url: str) -> str | None:
        """The blob name a URL of this store points at (None when it points elsewhere)."""
        prefix = f"{self.state.base_url}/blob/dmf/"
        if not url.startswith(prefix):
            return None
        from urllib.parse import unquote

        return unquote(url[len(prefix) :].split("?", 1)[0])

    def refusal(self, name: str, query: Mapping[str, str], permission: str) -> Response | None:
        """Azure's answer when the SAS in ``query`` does not allow ``permission`` now."""
        sp, st, se, sig = (query.get(k, "") for k in ("sp", "st", "se", "sig"))
        if not (sig and se and st and sp):
            return azure_error(
                403,
                "AuthenticationFailed",
                _AUTH_MESSAGE,
                {"AuthenticationErrorDetail": "Signature fields not well formed."},
            )
        expected = self._signature(name, sp, st, se)
        if not hmac.compare_digest(expected, sig):
            detail = (
                "Signature did not match. String to sign used was "
                f"{sp}\n{st}\n{se}\n/blob/dmf/{name}\n{SAS_VERSION}"
            )
            return azure_error(
                403, "AuthenticationFailed", _AUTH_MESSAGE, {"AuthenticationErrorDetail": detail}
            )
        try:
            expiry = datetime.strptime(se, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            expiry = 0.0
        now = time.time()
        if expiry <= now:
            detail = (
                f"Signed expiry time [{_http_date(expiry)}] has to be after signed start time "
                f"[{_http_date(now)}]"
            )
            return azure_error(
                403, "AuthenticationFailed", _AUTH_MESSAGE, {"AuthenticationErrorDetail": detail}
            )
        if permission not in sp:
            return azure_error(
                403,
                "AuthorizationPermissionMismatch",
                "This request is not authorized to perform this operation using this permission.",
            )
        return None


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter()
    blobs = state.blobs

    @api.get("/blob/dmf/{name:path}")
    def download(name: str, request: Request) -> Response:
        refusal = blobs.refusal(name, request.query_params, "r")
        if refusal is not None:
            return refusal
        path = blobs.path(name)
        if not path.is_file():
            return azure_error(404, "BlobNotFound", "The specified blob does not exist.")
        stat = path.stat()
        return FileResponse(
            path,
            media_type="application/octet-stream",
            headers={
                "x-ms-blob-type": "BlockBlob",
                "x-ms-version": "2021-08-06",
                "Last-Modified": _http_date(stat.st_mtime),
            },
        )

    @api.put("/blob/dmf/{name:path}")
    async def upload(name: str, request: Request) -> Response:
        refusal = blobs.refusal(name, request.query_params, "w")
        if refusal is not None:
            return refusal
        blob_type = request.headers.get("x-ms-blob-type")
        if blob_type is None:
            return azure_error(
                400,
                "MissingRequiredHeader",
                "An HTTP header that's mandatory for this request is not specified.",
                {"HeaderName": "x-ms-blob-type"},
            )
        if blob_type != "BlockBlob":
            return azure_error(
                400,
                "InvalidHeaderValue",
                "The value for one of the HTTP headers is not in the correct format.",
                {"HeaderName": "x-ms-blob-type", "HeaderValue": blob_type},
            )
        target = blobs.path(name)
        partial = target.with_suffix(".part")
        digest = hashlib.md5()  # noqa: S324 - Content-MD5 is what Azure returns, not security
        with partial.open("wb") as handle:
            async for chunk in request.stream():
                handle.write(chunk)
                digest.update(chunk)
        os.replace(partial, target)
        now = time.time()
        return Response(
            b"",
            201,
            {
                "ETag": f'"0x{secrets.token_hex(8).upper()}"',
                "Last-Modified": _http_date(now),
                "Content-MD5": base64.b64encode(digest.digest()).decode(),
                "x-ms-request-server-encrypted": "true",
                "x-ms-version": "2021-08-06",
            },
        )

    return api
