"""OData error bodies turned into clmsync errors (shared by the client and the batch parser)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import requests

from connectors import catalog
from connectors.errors import (
    AuthError,
    ClmSyncError,
    ODataError,
    ODataRequestError,
    ODataUnavailable,
    PermissionDenied,
)
from connectors.http import WRITE_EXCEPTION
from connectors.odata_query import catalog_entity


def _innermost(error: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The deepest ``innererror`` (or ``internalexception``) message and type."""
    message: str | None = None
    kind: str | None = None
    node: Any = error.get("innererror")
    depth = 0
    while isinstance(node, Mapping) and depth < 20:
        if node.get("message"):
            message = str(node["message"])
            kind = str(node.get("type") or "") or kind
        node = node.get("innererror") or node.get("internalexception")
        depth += 1
    return message, kind


def parse_error_body(text: str) -> tuple[str, str | None]:
    """(message, error type) from an OData error body, by the reference's precedence:
    the innermost ``innererror.message``, then ``error.message``, then ``Message``."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            inner, kind = _innermost(error)
            if inner:
                return inner, kind
            if error.get("message"):
                return str(error["message"]), None
        if body.get("Message"):
            return str(body["Message"]), None
    text = " ".join((text or "").split())
    return (text[:300] or "no error text"), None


def error_from_response(response: requests.Response, method: str, url: str) -> ClmSyncError:
    """The :class:`ODataError` (or auth/permission error) a failed response stands for."""
    status = response.status_code
    message, kind = parse_error_body(response.text)
    activity = response.headers.get("ms-dyn-aid")
    entity_set = _entity_set_of(url)
    if status == 401:
        return AuthError(
            f"SCM refused the token for {method} {entity_set}: {message}",
            status=401,
            hint="The token is valid for Entra ID but not for SCM: check that the scope is the SCM "
            "URL and that the application is added in SCM's Microsoft Entra ID applications form.",
        )
    if status == 403:
        known = catalog_entity(entity_set)
        role = known.role if known is not None else catalog.CLM_INTEGRATION_ROLE
        return PermissionDenied(
            f"SCM refused {method} {entity_set} (HTTP 403): {message}",
            resource=entity_set,
            hint=f"Give the user mapped to the application in SCM's Microsoft Entra ID "
            f"applications form the '{role}' role (it guards {entity_set}).",
        )
    # SCM answers 500 for business-rule failures too; only those are known to be final.
    retryable = status in (429, 502, 503, 504) or (
        status == 500 and WRITE_EXCEPTION not in (kind or "")
    )
    cls: Callable[..., ODataError] = ODataUnavailable if retryable else ODataRequestError
    hint = None
    if status == 412:
        hint = "The record changed since it was read; read it again before updating."
    return cls(
        message,
        status=status,
        method=method,
        url=url,
        activity_id=activity,
        error_type=kind,
        hint=hint,
    )


def _entity_set_of(url: str) -> str:
    marker = "/data/"
    path = url.split("?", 1)[0]
    if marker not in path:
        return path
    rest = path.split(marker, 1)[1]
    return rest.split("(", 1)[0].split("/", 1)[0] or rest
