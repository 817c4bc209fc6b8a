"""The OData client for SCM's ``/data`` service.

Reads are generators of pages that follow ``@odata.nextLink`` as the server wrote it. Every
request carries a fresh bearer token; a 401 gets exactly one forced token refresh. Failures
become :class:`ODataError` subclasses carrying the server's innermost message and the
``ms-dyn-aid`` activity id. Keys and literals are formatted by :mod:`connectors.odata_query`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import requests

from connectors.auth import TokenSource
from connectors.batch import Operation, OperationResult, build_batch, parse_batch
from connectors.errors import ODataRequestError, ODataUnavailable, RetryDeadlineExceeded
from connectors.http import RetryPolicy
from connectors.odata_errors import error_from_response
from connectors.odata_query import (
    DEFAULT_FILTER_LENGTH,
    QUERY_SAFE,
    catalog_entity,
    encoded_length,
    filter_in,
    filter_keys,
    format_key,
    literal,
)

__all__ = [
    "ODataClient",
    "Operation",
    "OperationResult",
    "error_from_response",
    "filter_in",
    "filter_keys",
    "format_key",
    "literal",
]

log = logging.getLogger(__name__)

ACTION_NAMESPACE = "Microsoft.Dynamics.DataEntities"
ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}
MAX_BATCH_OPERATIONS = 5000  # SCM's limit per $batch (reference §4.7)


class ODataClient:
    """SCM's OData service at ``<base_url>/data``.

    ``tokens`` supplies bearer tokens, ``session`` comes from :func:`connectors.http.build_session`
    and ``policy`` decides retries. Methods take entity set names (``VendorsV2``).
    """

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        session: requests.Session,
        policy: RetryPolicy,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.data_url = f"{self.base_url}/data"
        self.tokens = tokens
        self.session = session
        self.policy = policy

    # --- reads ---------------------------------------------------------------------------

    def pages(
        self,
        entity_set: str,
        *,
        select: Sequence[str] | None = None,
        filter: str | None = None,
        orderby: str | Sequence[str] | None = None,
        cross_company: bool = False,
        top: int | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the rows of ``entity_set`` page by page, following ``@odata.nextLink``."""
        params: dict[str, str] = {}
        if select:
            params["$select"] = ",".join(select)
        if filter:
            params["$filter"] = filter
        if orderby:
            params["$orderby"] = orderby if isinstance(orderby, str) else ",".join(orderby)
        if top is not None:
            params["$top"] = str(top)
        if cross_company:
            params["cross-company"] = "true"
        url: str | None = self._url(entity_set, params)
        while url is not None:
            body = self._json(self._send("GET", url, what=f"GET {entity_set}"), "GET", url)
            rows = body.get("value")
            if not isinstance(rows, list):
                raise ODataRequestError(
                    "the response has no 'value' list", status=200, method="GET", url=url
                )
            yield rows
            next_url = body.get("@odata.nextLink")
            if next_url is not None and next_url == url:
                raise ODataRequestError(
                    "@odata.nextLink repeats the page just read; stopping", status=200, url=url
                )
            url = next_url

    def pages_in(
        self,
        entity_set: str,
        field: str,
        values: Sequence[object],
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        cross_company: bool = False,
        max_filter_length: int = DEFAULT_FILTER_LENGTH,
    ) -> Iterator[list[dict[str, Any]]]:
        """Rows whose ``field`` is one of ``values``, in as many requests as the URL budget needs
        (SCM has no ``in``); ``filter`` is and-ed to each of them."""
        known = catalog_entity(entity_set)
        spec = known.field(field) if known is not None else field
        budget = max_filter_length
        if filter:
            budget -= encoded_length(filter) + encoded_length("() and ")
        for terms in filter_in(spec, values, budget):
            combined = f"({filter}) and {terms}" if filter else terms
            yield from self.pages(
                entity_set, select=select, filter=combined, cross_company=cross_company
            )

    def count(
        self, entity_set: str, *, filter: str | None = None, cross_company: bool = False
    ) -> int:
        """The number of rows (``/$count``; SCM's text answer starts with a BOM)."""
        params: dict[str, str] = {}
        if filter:
            params["$filter"] = filter
        if cross_company:
            params["cross-company"] = "true"
        url = self._url(f"{entity_set}/$count", params)
        response = self._send("GET", url, what=f"GET {entity_set}/$count")
        text = response.content.decode("utf-8-sig", errors="replace").strip().lstrip("\ufeff")
        try:
            return int(text)
        except ValueError:
            raise ODataRequestError(
                f"$count answered {text[:80]!r}, not a number",
                status=response.status_code,
                method="GET",
                url=url,
            ) from None

    def get(
        self,
        entity_set: str,
        keys: Mapping[str, object],
        *,
        select: Sequence[str] | None = None,
        cross_company: bool = False,
    ) -> dict[str, Any] | None:
        """One record by its complete key, or None when SCM has no such record."""
        params: dict[str, str] = {}
        if select:
            params["$select"] = ",".join(select)
        if cross_company:
            params["cross-company"] = "true"
        url = self._url(entity_set + format_key(entity_set, keys), params)
        response = self._send("GET", url, what=f"GET {entity_set}", allow={404})
        if response.status_code == 404:
            # SCM answers "Resource not found for the segment '<set>'" both for a missing record
            # and for an unknown set: for a set outside the catalog, assume the latter.
            if catalog_entity(entity_set) is not None:
                return None
            raise error_from_response(response, "GET", url)
        return self._json(response, "GET", url)

    # --- writes --------------------------------------------------------------------------

    def create(self, entity_set: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a new record; returns SCM's copy with generated keys and ``@odata.etag``."""
        url = self._url(entity_set)
        response = self._send("POST", url, json_body=body, what=f"POST {entity_set}")
        return self._json(response, "POST", url)

    def update(
        self,
        entity_set: str,
        keys: Mapping[str, object],
        changes: Mapping[str, Any],
        etag: str | None = None,
    ) -> None:
        """PATCH only ``changes``; ``If-Match`` is the record's etag when known, else ``*``."""
        url = self._url(entity_set + format_key(entity_set, keys))
        self._send(
            "PATCH",
            url,
            json_body=changes,
            headers={"If-Match": etag or "*"},
            what=f"PATCH {entity_set}",
        )

    def delete(self, entity_set: str, keys: Mapping[str, object], etag: str | None = None) -> None:
        """DELETE one record by its complete key."""
        url = self._url(entity_set + format_key(entity_set, keys))
        self._send("DELETE", url, headers={"If-Match": etag or "*"}, what=f"DELETE {entity_set}")

    def action(
        self,
        entity_set: str,
        name: str,
        body: Mapping[str, Any],
        *,
        idempotent: bool = False,
        timeout: float | tuple[float, float] | None = None,
    ) -> Any:
        """Call a bound action on ``entity_set``; returns the answer's ``value`` (None for 204).

        ``idempotent`` says whether the action may be sent again after a failure that could have
        reached the server (a status query may, an import may not).
        """
        url = self._url(f"{entity_set}/{ACTION_NAMESPACE}.{name}")
        response = self._send(
            "POST",
            url,
            json_body=body,
            what=f"{name}",
            idempotent=idempotent,
            timeout=timeout,
        )
        if response.status_code == 204 or not response.content:
            return None
        return self._json(response, "POST", url).get("value")

    def batch(self, changesets: Sequence[Sequence[Operation]]) -> list[OperationResult]:
        """Send atomic changesets in one ``$batch``; one result per operation, in order.

        The outer answer is 200 even when a changeset failed, so each operation's own status is
        what counts: in a failed changeset nothing was applied.
        """
        total = sum(len(c) for c in changesets)
        if total > MAX_BATCH_OPERATIONS:
            raise ValueError(
                f"{total} operations in one $batch; SCM accepts {MAX_BATCH_OPERATIONS}"
            )
        body, content_type, index = build_batch(self.data_url, changesets)
        url = f"{self.data_url}/$batch"
        response = self._send(
            "POST",
            url,
            data=body,
            headers={"Content-Type": content_type},
            what=f"$batch of {total} operations",
        )
        return parse_batch(response.content, response.headers.get("Content-Type", ""), index)

    # --- plumbing ------------------------------------------------------------------------

    def _url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        url = f"{self.data_url}/{path}"
        if params:
            url += "?" + urlencode(params, quote_via=quote, safe=QUERY_SAFE)
        return url

    def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json_body: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: float | tuple[float, float] | None = None,
        allow: frozenset[int] | set[int] = frozenset(),
    ) -> requests.Response:
        """Send one request with the retry policy and one forced token refresh on a 401."""
        payload = data
        merged = dict(ODATA_HEADERS)
        if json_body is not None:
            payload = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            merged["Content-Type"] = "application/json; charset=utf-8"
        merged.update(headers or {})

        def attempt() -> requests.Response:
            merged["Authorization"] = f"Bearer {self.tokens.token()}"
            return self.session.request(method, url, data=payload, headers=merged, timeout=timeout)

        for refreshed in (False, True):
            try:
                response = self.policy.call(
                    attempt, what=what, method=method, idempotent=idempotent
                )
            except RetryDeadlineExceeded:
                raise
            except requests.exceptions.SSLError as exc:
                raise ODataRequestError(
                    f"TLS failed: {exc}",
                    status=0,
                    method=method,
                    url=url,
                    hint="Check scm.ca_bundle: it must hold the CA that signed SCM's certificate.",
                ) from exc
            except requests.RequestException as exc:
                raise ODataUnavailable(
                    f"no answer: {type(exc).__name__}: {exc}", status=0, method=method, url=url
                ) from exc
            if response.status_code == 401 and not refreshed:
                log.info("%s: HTTP 401, refreshing the token once", what)
                self.tokens.invalidate()
                continue
            break
        if response.status_code < 400 or response.status_code in allow:
            return response
        raise error_from_response(response, method, url)

    @staticmethod
    def _json(response: requests.Response, method: str, url: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise ODataRequestError(
                f"the answer is not JSON: {response.text[:200]!r}",
                status=response.status_code,
                method=method,
                url=url,
            ) from None
        if not isinstance(body, dict):
            raise ODataRequestError(
                "the answer is not a JSON object",
                status=response.status_code,
                method=method,
                url=url,
            )
        return body
