"""Microsoft Entra ID tokens for SCM, through msal's ``ConfidentialClientApplication``.

The provider keeps the last token and hands it out until it is close to expiry, then asks msal,
which serves it from its own token cache or goes to the token endpoint. msal's error dicts are
turned into :class:`AuthError` here, with the AADSTS code and a hint; nothing downstream ever
looks inside an msal result. msal's HTTP goes through the project's session (so a configured CA
bundle is honoured) and the project's retry policy.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import msal
import requests
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

from connectors.errors import AuthError, AuthUnavailable, RetryDeadlineExceeded
from connectors.http import RetryPolicy
from connectors.redact import redact, register_secret

log = logging.getLogger(__name__)

RENEW_MARGIN = 300.0  # renew five minutes before expiry, as msal itself does

_REGISTRATION_HINT = (
    "check the client id and secret, and that the application is added in SCM under "
    "System administration > Setup > Microsoft Entra ID applications"
)
_HINTS: dict[str, str] = {
    "AADSTS700016": "The application (client) id is not known in this tenant: "
    + _REGISTRATION_HINT
    + ".",
    "AADSTS7000215": "The client secret is wrong: " + _REGISTRATION_HINT + ".",
    "AADSTS7000222": "The client secret has expired: create a new one in Entra ID and update "
    "scm.client_secret.",
    "AADSTS90002": "The tenant was not found: check scm.tenant_id.",
    "AADSTS90013": "The tenant id is malformed: check scm.tenant_id.",
    "AADSTS500011": "The resource (SCM URL) was not found in the tenant: check "
    "scm.environment_url (no trailing slash).",
    "AADSTS700027": "The certificate assertion was refused: check the certificate file and its "
    "thumbprint, and that the certificate is uploaded to the app registration.",
    "AADSTS1002012": "The scope is invalid: it must be '<SCM URL>/.default'.",
}


class TokenSource(Protocol):
    """What the OData client needs from a token provider."""

    def token(self) -> str: ...

    def invalidate(self) -> None: ...


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate credential: a PEM file holding the private key (and the certificate)."""

    path: Path
    thumbprint: str
    passphrase: str | None = None

    def as_msal(self) -> dict[str, str]:
        pem = Path(self.path).read_text(encoding="ascii")
        credential: dict[str, str] = {
            "private_key": pem,
            "thumbprint": self.thumbprint.replace(":", "").upper(),
        }
        match = re.search(
            r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, flags=re.S
        )
        if match:  # sending the public certificate enables subject-name/issuer authentication
            credential["public_certificate"] = match.group(0)
        if self.passphrase:
            credential["passphrase"] = self.passphrase
        return credential


class _PolicyHttpClient:
    """The http_client msal calls: the project's session, behind the project's retry policy."""

    def __init__(self, session: requests.Session, policy: RetryPolicy) -> None:
        self._session = session
        self._policy = policy

    def post(self, url: str, params: Any = None, data: Any = None, **kwargs: Any) -> Any:
        # A client-credentials grant can be sent again safely: it only issues another token.
        return self._policy.call(
            lambda: self._session.post(url, params=params, data=data, **kwargs),
            what=f"token request to {_host(url)}",
            method="POST",
            idempotent=True,
        )

    def get(self, url: str, params: Any = None, **kwargs: Any) -> Any:
        return self._policy.call(
            lambda: self._session.get(url, params=params, **kwargs),
            what=f"GET {_host(url)}{urlsplit(url).path}",
            method="GET",
        )

    def close(self) -> None:  # msal may call it; the session belongs to the caller
        return None


def _host(url: str) -> str:
    return urlsplit(url).netloc


def is_microsoft_authority(authority: str) -> bool:
    """True for a Microsoft cloud's Entra ID host (where msal's instance discovery applies)."""
    return (urlsplit(authority).hostname or "").lower() in WELL_KNOWN_AUTHORITY_HOSTS


class TokenProvider:
    """Bearer tokens for one application and one scope (``<SCM URL>/.default``).

    ``token()`` returns a token valid for at least ``renew_margin`` more seconds (or half its
    lifetime, for short-lived tokens); ``invalidate()`` drops it from here and from msal's cache so
    the next ``token()`` asks the token endpoint (the OData client calls it once on a 401).
    """

    def __init__(
        self,
        authority: str,
        client_id: str,
        scope: str,
        *,
        client_secret: str | None = None,
        certificate: ClientCertificate | None = None,
        http_session: requests.Session,
        policy: RetryPolicy | None = None,
        renew_margin: float = RENEW_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (client_secret is None) == (certificate is None):
            raise ValueError("give exactly one of client_secret and certificate")
        if not authority.startswith("https://"):
            raise AuthError(
                f"authority {authority} is not an https URL",
                hint="Entra ID (and msal) accept only https authorities.",
            )
        register_secret(client_secret)
        self.authority = authority.rstrip("/")
        self.client_id = client_id
        self.scope = scope
        self._renew_margin = renew_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        credential: str | dict[str, str] = (
            client_secret if client_secret is not None else certificate.as_msal()  # type: ignore[union-attr]
        )
        self._credential = credential
        self._http = _PolicyHttpClient(http_session, policy or RetryPolicy(deadline=120.0))
        self._app: Any = None

    def _application(self) -> Any:
        if self._app is None:
            kwargs: dict[str, Any] = {}
            if not is_microsoft_authority(self.authority):
                # A private authority (a sovereign deployment, the emulator) is not in Microsoft's
                # instance list: skip the discovery call that would otherwise fail.
                kwargs["instance_discovery"] = False
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.client_id,
                    authority=self.authority,
                    client_credential=self._credential,
                    http_client=self._http,
                    **kwargs,
                )
            except requests.exceptions.SSLError as exc:
                raise _tls_error(self.authority, exc) from exc
            except (requests.RequestException, RetryDeadlineExceeded) as exc:
                raise AuthUnavailable(
                    f"cannot reach the authority {self.authority}: {exc}",
                    hint="Check the network path to Entra ID and scm.ca_bundle.",
                ) from exc
            except ValueError as exc:
                raise AuthError(
                    f"the authority {self.authority} was refused: {redact(str(exc))}",
                    hint="Check scm.authority_host and scm.tenant_id.",
                ) from exc
        return self._app

    def token(self) -> str:
        """A bearer token for ``scope``, renewed ahead of its expiry."""
        with self._lock:
            if self._token is not None and self._clock() < self._renew_at:
                return self._token
            result = self._acquire()
            self._token = str(result["access_token"])
            lifetime = float(result.get("expires_in") or 0)
            margin = min(self._renew_margin, lifetime / 2)
            self._renew_at = self._clock() + lifetime - margin
            return self._token

    def invalidate(self) -> None:
        """Forget the current token here and in msal's cache."""
        with self._lock:
            self._token = None
            self._renew_at = 0.0
            if self._app is not None:
                cache = self._app.token_cache
                for item in list(
                    cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, target=[self.scope])
                ):
                    cache.remove_at(item)

    def _acquire(self) -> Mapping[str, Any]:
        app = self._application()
        try:
            result = app.acquire_token_for_client(scopes=[self.scope])
        except requests.exceptions.SSLError as exc:
            raise _tls_error(self.authority, exc) from exc
        except (requests.RequestException, RetryDeadlineExceeded) as exc:
            raise AuthUnavailable(
                f"token endpoint of {self.authority} unreachable: {exc}",
                hint="Check the network path to Entra ID and scm.ca_bundle.",
            ) from exc
        except msal.exceptions.MsalServiceError as exc:  # msal raises on 5xx answers
            raise AuthUnavailable(f"token endpoint of {self.authority} failed: {exc}") from exc
        except ValueError as exc:  # e.g. a discovery document that is not there
            raise AuthError(
                f"the authority {self.authority} was refused: {redact(str(exc))}",
                hint="Check scm.authority_host and scm.tenant_id.",
            ) from exc
        if not isinstance(result, Mapping) or "access_token" not in result:
            raise auth_error_from_msal(result if isinstance(result, Mapping) else {})
        log.debug("token for %s acquired (source %s)", self.scope, result.get("token_source"))
        return result


def _tls_error(authority: str, exc: Exception) -> AuthError:
    return AuthError(
        f"TLS with {authority} failed: {exc}",
        hint="Check scm.ca_bundle: it must hold the CA that signed the authority's certificate.",
    )


_AADSTS = re.compile(r"\b(AADSTS\d+)\b")


def auth_error_from_msal(result: Mapping[str, Any]) -> AuthError:
    """Turn an msal error dict into an :class:`AuthError` with the AADSTS code and a hint."""
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "")
    code: str | None = None
    match = _AADSTS.search(description)
    if match:
        code = match.group(1)
    else:
        codes = result.get("error_codes") or []
        if codes:
            code = f"AADSTS{codes[0]}"
    first_line = description.splitlines()[0] if description else "no description"
    hint = _HINTS.get(code or "")
    if hint is None:
        hint = (
            "Check scm.tenant_id, scm.client_id and the secret or certificate; "
            + _REGISTRATION_HINT
            + "."
        )
    return AuthError(
        f"Entra ID refused the token request: {first_line}",
        error=error,
        code=code,
        correlation_id=result.get("correlation_id"),
        hint=hint,
    )
