"""Response bodies, exactly as the services being emulated send them.

OData errors use the shapes in §4.8 of the SCM reference; Entra ID errors the token endpoint's
JSON (``error``, ``error_description`` with trace and correlation ids, ``error_codes``); Azure
Blob errors Azure Storage's XML. Handlers raise :class:`ServiceError` carrying a finished
response, so deep code can fail with the right body without knowing about HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import orjson
from starlette.responses import Response

ODATA_JSON = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
WRITE_EXCEPTION = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"
ODATA_EXCEPTION = "Microsoft.OData.ODataException"
XPP_EXCEPTION = "Microsoft.Dynamics.Ax.Xpp.ErrorException"


class ServiceError(Exception):
    """Carries the response a request must get (raised anywhere below a handler)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An OData JSON response (orjson-encoded)."""
    all_headers = {"OData-Version": "4.0", **(headers or {})}
    return Response(orjson.dumps(body), status, all_headers, media_type=ODATA_JSON)


def odata_error_body(message: str, inner: str, type_: str) -> dict[str, Any]:
    return {
        "error": {
            "code": "",
            "message": message,
            "innererror": {"message": inner, "type": type_, "stacktrace": ""},
        }
    }


def odata_error(
    status: int, inner: str, type_: str = "", message: str = "An error has occurred."
) -> ServiceError:
    return ServiceError(json_response(odata_error_body(message, inner, type_), status))


def segment_not_found(segment: str) -> ServiceError:
    """404 for an unknown entity set, action or path segment."""
    return odata_error(404, f"Resource not found for the segment '{segment}'.")


def no_route(url: str) -> ServiceError:
    """404 in ASP.NET Web API's shape, for URLs no route matches (e.g. a malformed key)."""
    body = {
        "Message": f"No HTTP resource was found that matches the request URI '{url}'. "
        "No route data was found for this request."
    }
    return ServiceError(json_response(body, 404))


def query_invalid(detail: str) -> ServiceError:
    """400 for a query option the OData parser refuses."""
    return odata_error(
        400,
        detail,
        ODATA_EXCEPTION,
        message=f"The query specified in the URI is not valid. {detail}",
    )


def bad_request(detail: str, type_: str = ODATA_EXCEPTION) -> ServiceError:
    return odata_error(400, detail, type_, message=detail)


def write_failed(target: str, infolog: list[str]) -> ServiceError:
    """500 AxODataWriteException with Infolog-style messages (business validation)."""
    inner = f"Write failed for table row of type '{target}'. Infolog: {'; '.join(infolog)}."
    return odata_error(500, inner, WRITE_EXCEPTION)


def action_failed(message: str, status: int = 400) -> ServiceError:
    """An action refused by X++ business logic (unknown project, duplicate execution id...)."""
    return odata_error(status, message, XPP_EXCEPTION)


def text_response(text: str, status: int = 200) -> Response:
    """``text/plain`` with a UTF-8 BOM, as SCM sends ``$count``."""
    return Response(
        b"\xef\xbb\xbf" + text.encode(),
        status,
        {"OData-Version": "4.0"},
        media_type="text/plain; charset=utf-8",
    )


# --- Entra ID --------------------------------------------------------------------------------


def _now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def entra_error(status: int, error: str, code: int, text: str) -> Response:
    """A token endpoint error: ``AADSTS<code>: <text>`` plus trace and correlation ids."""
    trace, correlation, stamp = str(uuid.uuid4()), str(uuid.uuid4()), _now_stamp()
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: {trace}\r\n"
        f"Correlation ID: {correlation}\r\nTimestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return Response(
        orjson.dumps(body),
        status,
        {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
        media_type="application/json; charset=utf-8",
    )


# --- Azure Blob Storage -----------------------------------------------------------------------


def azure_error(
    status: int, code: str, message: str, extra: Mapping[str, str] | None = None
) -> Response:
    """Azure Storage's XML error body, with its request id and time lines."""
    request_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    time = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0Z"  # 7 digits, as Azure
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><Error>',
        f"<Code>{code}</Code>",
        f"<Message>{escape(message)}\nRequestId:{request_id}\nTime:{time}</Message>",
    ]
    for name, value in (extra or {}).items():
        parts.append(f"<{name}>{escape(value)}</{name}>")
    parts.append("</Error>")
    return Response(
        "".join(parts).encode(),
        status,
        {
            "x-ms-request-id": request_id,
            "x-ms-error-code": code,
            "x-ms-version": "2021-08-06",
            "Server": "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
        },
        media_type="application/xml",
    )
