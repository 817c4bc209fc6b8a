"""Microsoft Entra ID: OpenID discovery, the client-credentials token endpoint, bearer checks.

Tokens are JWT-shaped (HS256 with the emulator's own key) and carry what SCM reads from an Entra
access token: ``appid``, ``oid``, ``tid``, ``aud``, ``exp``, plus ``roles`` (the SCM user's
security roles, for information: SCM decides from its own application form on every call).
The token endpoint reads the urlencoded form itself (no python-multipart) and answers errors
with Entra's JSON and AADSTS codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from connectors.catalog import Entity
from emulator.assertion import JWT_BEARER, AssertionRefused, check
from emulator.responses import ServiceError, entra_error, odata_error

if TYPE_CHECKING:
    from emulator.state import App, EmulatorState

_NOT_INSTALLED = (
    "This can happen if the application has not been installed by the administrator of the "
    "tenant or consented to by any user in the tenant."
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(state: EmulatorState, app: App, lifetime: int, audience: str) -> str:
    """A token for ``audience``; SCM accepts only its own URL without a trailing slash."""
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{state.tenant_id}/",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "appid": app.client_id,
        "appidacr": "1",
        "idp": f"https://sts.windows.net/{state.tenant_id}/",
        "oid": app.object_id,
        "sub": app.object_id,
        "tid": state.tenant_id,
        "roles": list(app.roles),
        "uti": _b64(uuid.uuid4().bytes),
        "ver": "1.0",
    }
    head = _b64(orjson.dumps({"typ": "JWT", "alg": "HS256"}))
    body = _b64(orjson.dumps(claims))
    sig = hmac.new(state.signing_key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def verify_token(state: EmulatorState, token: str) -> dict[str, Any] | None:
    """The token's claims when it is ours, unexpired, for SCM and not invalidated; else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = hmac.new(state.signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256)
    try:
        if not hmac.compare_digest(_unb64(parts[2]), expected.digest()):
            return None
        claims: dict[str, Any] = orjson.loads(_unb64(parts[1]))
    except (ValueError, orjson.JSONDecodeError):
        return None
    now = time.time()
    if claims.get("exp", 0) <= now or claims.get("aud") != state.scm_url:
        return None
    if claims.get("iat", 0) < state.tokens_invalid_before:
        return None
    return claims


def _unauthorized(state: EmulatorState, error: str) -> ServiceError:
    challenge = (
        f'Bearer authorization_uri="{state.authority}/oauth2/authorize", '
        f'error="invalid_token", error_description="{error}"'
    )
    return ServiceError(Response(b"", 401, {"WWW-Authenticate": challenge}))


def authenticate(state: EmulatorState, request: Request) -> App:
    """The application behind the request's bearer token (401 when there is none valid)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized(state, "The access token is missing.")
    claims = verify_token(state, token.strip())
    if claims is None:
        raise _unauthorized(state, "The access token is invalid or has expired.")
    app = state.find_app(str(claims.get("appid", "")))
    if app is None or not app.user_id:
        raise _unauthorized(
            state, "The application is not registered in Microsoft Entra ID applications."
        )
    return app


def authorize(app: App, entity: Entity) -> None:
    """403 naming the missing role when the application's user lacks the entity's role."""
    if entity.role not in app.roles:
        raise odata_error(
            403,
            f"Access denied: user '{app.user_id}' (application '{app.name}', client id "
            f"{app.client_id}) does not have the security role '{entity.role}' required for "
            f"the entity '{entity.name}'.",
        )


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter()

    def tenant_error(tenant: str) -> Response | None:
        if tenant.lower() == state.tenant_id.lower():
            return None
        return entra_error(
            400,
            "invalid_request",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
            "are signing into the correct cloud. Check with your subscription administrator, "
            "this may happen if there are no active subscriptions for the tenant.",
        )

    def discovery(tenant: str, v2: bool) -> Response:
        error = tenant_error(tenant)
        if error is not None:
            return error
        base = f"{state.base_url}/{tenant}"
        suffix = "/v2.0" if v2 else ""
        doc = {
            "token_endpoint": f"{base}/oauth2{suffix}/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery{suffix}/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}{suffix}" if v2 else f"https://sts.windows.net/{tenant}/",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2{suffix}/authorize",
            "device_authorization_endpoint": f"{base}/oauth2{suffix}/devicecode",
            "end_session_endpoint": f"{base}/oauth2{suffix}/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        }
        return Response(orjson.dumps(doc), media_type="application/json; charset=utf-8")

    @api.get("/{tenant}/v2.0/.well-known/openid-configuration")
    def discovery_v2(tenant: str) -> Response:
        return discovery(tenant, True)

    @api.get("/{tenant}/.well-known/openid-configuration")
    def discovery_v1(tenant: str) -> Response:
        return discovery(tenant, False)

    @api.get("/{tenant}/discovery/v2.0/keys")
    @api.get("/{tenant}/discovery/keys")
    def keys(tenant: str) -> Response:
        return Response(orjson.dumps({"keys": []}), media_type="application/json")

    @api.post("/{tenant}/oauth2/v2.0/token")
    async def token_v2(tenant: str, request: Request) -> Response:
        return token(tenant, await request.body(), v2=True)

    @api.post("/{tenant}/oauth2/token")
    async def token_v1(tenant: str, request: Request) -> Response:
        return token(tenant, await request.body(), v2=False)

    def token(tenant: str, raw: bytes, v2: bool) -> Response:
        error = tenant_error(tenant)
        if error is not None:
            return error
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            if not grant:
                return entra_error(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'grant_type'.",
                )
            return entra_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        client_id = form.get("client_id", "")
        if not client_id:
            return entra_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        app = state.find_app(client_id)
        if app is None:
            return entra_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{state.tenant_id}'. {_NOT_INSTALLED} You may have sent your authentication "
                "request to the wrong tenant.",
            )
        secret = form.get("client_secret")
        if form.get("client_assertion"):
            endpoint = f"{state.base_url}/{tenant}/oauth2{'/v2.0' if v2 else ''}/token"
            try:
                if form.get("client_assertion_type") != JWT_BEARER:
                    raise AssertionRefused(
                        7000219, "'client_assertion_type' is missing or has a wrong value."
                    )
                check(form["client_assertion"], app.certificate, app.client_id, endpoint)
            except AssertionRefused as exc:
                return entra_error(401, "invalid_client", exc.code, str(exc))
        elif not secret:
            return entra_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )
        elif not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
            return entra_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app "
                f"'{app.client_id}'.",
            )
        resource = _check_resource(state, form, v2)
        if isinstance(resource, Response):
            return resource
        rule = state.faults.take(("token_expiry",), "POST", f"/{tenant}/oauth2")
        lifetime = rule.expires_in if rule is not None else state.options.token_lifetime
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": issue_token(state, app, lifetime, resource),
        }
        if not v2:
            now = int(time.time())
            body.update(expires_on=str(now + lifetime), not_before=str(now), resource=resource)
            body["expires_in"] = str(lifetime)
            body["ext_expires_in"] = str(lifetime)
        return Response(
            orjson.dumps(body),
            headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
            media_type="application/json; charset=utf-8",
        )

    return api


def _check_resource(state: EmulatorState, form: dict[str, str], v2: bool) -> Response | str:
    """The requested resource, or Entra's answer to a missing, malformed or unknown one.

    A resource with a trailing slash is a known principal too (Entra tolerates it), but the
    token's audience then carries the slash and SCM refuses the token: the trap SCM's docs warn
    about.
    """
    if v2:
        scope = form.get("scope", "")
        if not scope:
            return entra_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            )
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return entra_error(
                400,
                "invalid_scope",
                70011,
                f"The provided value for the input parameter 'scope' is not valid. The scope "
                f"{scope} is not valid.",
            )
        resource = scopes[0][: -len("/.default")]
    else:
        resource = form.get("resource", "")
        if not resource:
            return entra_error(
                400,
                "invalid_request",
                50001,
                "The resource principal is missing: the request body must contain the parameter "
                "'resource'.",
            )
    if resource.rstrip("/") != state.scm_url:
        return entra_error(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the tenant named "
            f"{state.tenant_id}. {_NOT_INSTALLED} You might have sent your authentication "
            "request to the wrong tenant.",
        )
    return resource
