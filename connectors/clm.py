"""The CLM side: its REST API (cursor pages, bulk upsert) and its export folders.

The API client sends ``X-Api-Key`` and goes through the project's session and retry policy, so
a 429 waits what ``Retry-After`` says. ``read_export`` checks an export folder against its
manifest (every file present, inside the folder, with the row count and SHA-256 it declares)
before anything in it is read, and names the file and the reason when something is off.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import quote, urlencode

import requests

from connectors import catalog
from connectors.errors import (
    ClmApiError,
    ClmExportError,
    ClmRequestError,
    ClmUnavailable,
    RetryDeadlineExceeded,
)
from connectors.http import RetryPolicy
from connectors.redact import redact, register_secret

log = logging.getLogger(__name__)

MAX_PAGE = 1000
MAX_UPSERT = 1000
MAX_REPEATS = 3  # a page served again this many times in a row ends the read
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ClmPage:
    """One page of CLM objects, the cursor it was asked with and the one for the next page."""

    collection: str
    items: list[dict[str, Any]]
    cursor: str | None
    next_cursor: str | None


@dataclass(frozen=True)
class UpsertResult:
    id: str
    status: Literal["created", "updated", "error"]
    error: str | None = None


class ClmClient:
    """The CLM REST API at ``base_url`` (``…/clm/api/v1``)."""

    def __init__(
        self, base_url: str, api_key: str, session: requests.Session, policy: RetryPolicy
    ) -> None:
        self.base_url = base_url.rstrip("/")
        register_secret(api_key)
        self._api_key = api_key
        self.session = session
        self.policy = policy

    def _send(
        self, method: str, path: str, *, body: Any = None, idempotent: bool | None = None
    ) -> Any:
        url = f"{self.base_url}/{path}"
        headers = {"X-Api-Key": self._api_key, "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        what = f"CLM {method} {path.split('?', 1)[0]}"
        try:
            response = self.policy.call(
                lambda: self.session.request(method, url, data=payload, headers=headers),
                what=what,
                method=method,
                idempotent=idempotent,
            )
        except RetryDeadlineExceeded as exc:
            raise ClmUnavailable(exc.last_reason, status=0, url=url) from exc
        except requests.exceptions.SSLError as exc:
            raise ClmRequestError(
                f"TLS failed ({exc}); check clm.ca_bundle", status=0, url=url
            ) from exc
        except requests.RequestException as exc:
            raise ClmUnavailable(f"no answer: {type(exc).__name__}", status=0, url=url) from exc
        if response.status_code >= 400:
            raise _clm_error(response, url)
        try:
            return response.json()
        except ValueError:
            raise ClmRequestError(
                f"the answer is not JSON: {redact(response.text[:200])!r}",
                status=response.status_code,
                url=url,
            ) from None

    def pages(
        self,
        collection: str,
        *,
        updated_since: str | None = None,
        limit: int = MAX_PAGE,
        cursor: str | None = None,
    ) -> Iterator[ClmPage]:
        """Yield the objects of ``collection`` page by page (ordered by updated_at, id).

        ``updated_since`` (ISO 8601) limits the read to objects changed since then. A flaky CLM
        may serve a page again (its next cursor is then the one just used): the page is yielded
        again, since landing keeps one row per id and version, and the read goes on; a cursor
        repeated more than ``MAX_REPEATS`` times in a row stops the read with an error.
        """
        name = catalog.clm_object(collection).collection
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be 1..{MAX_PAGE}, not {limit}")
        repeats = 0
        while True:
            params: dict[str, str] = {"limit": str(limit)}
            if cursor:
                params["cursor"] = cursor
            if updated_since:
                params["updated_since"] = updated_since
            body = self._send("GET", f"{name}?{urlencode(params, quote_via=quote)}")
            items = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(items, list):
                raise ClmRequestError("the answer has no 'data' list", status=200, url=name)
            next_cursor = body.get("next_cursor")
            yield ClmPage(name, items, cursor, next_cursor)
            if not next_cursor:
                return
            if next_cursor == cursor:
                repeats += 1
                log.warning("CLM %s: the same page was served again (%d)", name, repeats)
                if repeats > MAX_REPEATS:
                    raise ClmUnavailable(
                        f"the API served the same page {repeats} times; stopping the read",
                        status=200,
                        url=name,
                    )
            else:
                repeats = 0
            cursor = str(next_cursor)

    def bulk_upsert(
        self, items: Sequence[Mapping[str, Any]], *, collection: str = "counterparties"
    ) -> list[UpsertResult]:
        """Create or update objects by id, 1,000 per call; one result per item, in order.

        An item without an ``id`` is created (the CLM assigns the id, given in its result).
        """
        name = catalog.clm_object(collection).collection
        results: list[UpsertResult] = []
        for start in range(0, len(items), MAX_UPSERT):
            chunk = [dict(item) for item in items[start : start + MAX_UPSERT]]
            # An upsert by id gives the same result when sent twice, so it may be retried.
            body = self._send("POST", f"{name}/bulk-upsert", body={"items": chunk}, idempotent=True)
            answers = body.get("results") if isinstance(body, Mapping) else None
            if not isinstance(answers, list) or len(answers) != len(chunk):
                count = len(answers) if isinstance(answers, list) else "no"
                raise ClmRequestError(
                    f"bulk upsert of {len(chunk)} items answered {count} results",
                    status=200,
                    url=name,
                )
            for item, answer in zip(chunk, answers, strict=True):
                status = str(answer.get("status", "error"))
                results.append(
                    UpsertResult(
                        id=str(answer.get("id") or item.get("id") or ""),
                        status=status if status in ("created", "updated") else "error",  # type: ignore[arg-type]
                        error=answer.get("error"),
                    )
                )
        return results


def _clm_error(response: requests.Response, url: str) -> ClmApiError:
    try:
        body = response.json()
        message = body.get("error") or body.get("message") or body.get("detail") or body
    except ValueError:
        message = response.text[:300]
    text = redact(" ".join(str(message).split()))[:300] or "no error text"
    status = response.status_code
    if status in (429, 500, 502, 503, 504):
        return ClmUnavailable(text, status=status, url=url)
    if status == 401:
        return ClmRequestError(f"{text} (check clm.api_key)", status=status, url=url)
    return ClmRequestError(text, status=status, url=url)


# --- export folders ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClmExportFile:
    object: str  # the CLM object's collection, e.g. counterparties
    path: Path
    rows: int
    sha256: str


@dataclass(frozen=True)
class ClmExport:
    """A verified CLM export folder."""

    folder: Path
    export_id: str
    created_at: str | None
    since: str | None
    files: tuple[ClmExportFile, ...]

    def file(self, collection: str) -> ClmExportFile | None:
        name = catalog.clm_object(collection).collection
        return next((f for f in self.files if f.object == name), None)


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _measure(path: Path) -> tuple[int, str]:
    """(lines, sha256) of a JSON Lines file, read once in chunks. A file in UTF-16 (a byte order
    mark, or a NUL in the first character) raises ValueError: its lines cannot be counted."""
    digest = hashlib.sha256()
    lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        head = handle.read(2)
        if head.startswith(_UTF16_BOMS) or b"\x00" in head:
            raise ValueError("is UTF-16 text; CLM exports are UTF-8 JSON Lines")
        handle.seek(0)
        while block := handle.read(1 << 20):
            digest.update(block)
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1  # a last line without its newline still counts
    return lines, digest.hexdigest()


def read_export(folder: Path) -> ClmExport:
    """Verify an export folder against its ``manifest.json``; nothing is read before that."""
    folder = Path(folder)
    where = str(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ClmExportError(where, "no manifest.json: not an export, or still being written")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ClmExportError(where, f"manifest is not valid JSON ({exc})", file=MANIFEST) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise ClmExportError(where, "manifest has no 'files' list", file=MANIFEST)
    files: list[ClmExportFile] = []
    for entry in manifest["files"]:
        if not isinstance(entry, dict):
            raise ClmExportError(where, f"a files entry is not an object: {entry!r}", file=MANIFEST)
        name = str(entry.get("file") or "")
        pure = PurePosixPath(name)
        if not name or pure.is_absolute() or ".." in pure.parts or "\\" in name:
            raise ClmExportError(where, "the manifest names an unsafe path", file=name or "?")
        try:
            collection = catalog.clm_object(str(entry.get("object"))).collection
        except KeyError:
            raise ClmExportError(
                where, f"unknown object {entry.get('object')!r}", file=name
            ) from None
        path = folder / name
        if not path.is_file():
            raise ClmExportError(where, "listed in the manifest but missing", file=name)
        expected_rows = entry.get("rows")
        expected_sha = str(entry.get("sha256") or "").lower()
        if not isinstance(expected_rows, int) or not expected_sha:
            raise ClmExportError(where, "manifest entry lacks rows or sha256", file=name)
        try:
            rows, sha = _measure(path)
        except ValueError as exc:
            raise ClmExportError(where, str(exc), file=name) from None
        if sha != expected_sha:
            raise ClmExportError(where, "SHA-256 differs from the manifest's", file=name)
        if rows != expected_rows:
            raise ClmExportError(
                where, f"{rows} rows, the manifest says {expected_rows}", file=name
            )
        files.append(ClmExportFile(collection, path, rows, sha))
    return ClmExport(
        folder=folder,
        export_id=str(manifest.get("export_id") or folder.name),
        created_at=manifest.get("created_at"),
        since=manifest.get("since"),
        files=tuple(files),
    )


def list_exports(root: Path) -> list[Path]:
    """Export folders under ``root`` (those holding a manifest), oldest first by name."""
    return sorted(p.parent for p in Path(root).glob(f"*/{MANIFEST}"))
