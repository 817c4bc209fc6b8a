from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
import trustme

from connectors.auth import ClientCertificate, TokenProvider, is_microsoft_authority
from connectors.errors import AuthError, AuthUnavailable
from connectors.redact import redact
from tests.unit.connectors.fakes import (
    Clock,
    FakeTransport,
    fake_session,
    fast_policy,
    refused,
    response,
)

AUTHORITY = "https://login.fake.test/tenant-1"
SCOPE = "https://scm.fake.test/.default"


def _discovery(request: requests.PreparedRequest) -> requests.Response:
    return response(
        request,
        200,
        {
            "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
            "token_endpoint": f"{AUTHORITY}/oauth2/v2.0/token",
            "issuer": f"{AUTHORITY}/v2.0",
        },
    )


class Authority:
    """A fake Entra ID: discovery plus a token endpoint issuing tok-1, tok-2, …"""

    def __init__(self, expires_in: int = 3599) -> None:
        self.expires_in = expires_in
        self.issued = 0
        self.forms: list[dict[str, list[str]]] = []
        self.transport = FakeTransport()
        self.transport.on("GET", r"/v2.0/\.well-known/openid-configuration", _discovery)
        self.transport.on("POST", r"/oauth2/v2.0/token", self._token)

    def _token(self, request: requests.PreparedRequest) -> requests.Response:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        self.forms.append(parse_qs(body))
        self.issued += 1
        return response(
            request,
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "access_token": f"tok-{self.issued}",
            },
        )


def _provider(authority: Authority, clock: Clock, **kwargs: object) -> TokenProvider:
    options: dict[str, object] = {"client_secret": "s3cret-value-xyz"}
    options.update(kwargs)
    return TokenProvider(
        AUTHORITY,
        "client-1",
        SCOPE,
        http_session=fake_session(authority.transport),
        policy=fast_policy(clock, max_attempts=2),
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


def test_token_is_reused_from_the_cache() -> None:
    authority, clock = Authority(), Clock()
    tokens = _provider(authority, clock)
    assert tokens.token() == "tok-1"
    assert tokens.token() == "tok-1"
    assert authority.issued == 1
    form = authority.forms[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == [SCOPE]


def test_invalidate_forces_a_new_token_from_the_endpoint() -> None:
    authority, clock = Authority(), Clock()
    tokens = _provider(authority, clock)
    tokens.token()
    tokens.invalidate()
    assert tokens.token() == "tok-2"
    assert authority.issued == 2


def test_short_lived_tokens_are_renewed_before_they_expire() -> None:
    authority, clock = Authority(expires_in=60), Clock()
    tokens = _provider(authority, clock)
    assert tokens.token() == "tok-1"
    clock.now += 20
    assert tokens.token() == "tok-1"  # still more than half its life left
    clock.now += 15
    assert tokens.token() == "tok-2"  # renewed before the 60 s are up


@pytest.mark.parametrize(
    ("code", "expected_hint"),
    [
        (7000215, "Microsoft Entra ID applications"),
        (700016, "not known in this tenant"),
        (90002, "scm.tenant_id"),
    ],
)
def test_msal_error_dicts_become_auth_errors_with_code_and_hint(
    code: int, expected_hint: str
) -> None:
    authority, clock = Authority(), Clock()
    authority.transport.on(
        "POST",
        r"/token",
        lambda r: response(
            r,
            401,
            {
                "error": "invalid_client",
                "error_description": f"AADSTS{code}: something went wrong.\r\nTrace ID: t-1",
                "error_codes": [code],
                "correlation_id": "corr-1",
            },
        ),
    )
    tokens = _provider(authority, clock)
    with pytest.raises(AuthError) as caught:
        tokens.token()
    error = caught.value
    assert error.code == f"AADSTS{code}"
    assert error.error == "invalid_client"
    assert error.correlation_id == "corr-1"
    assert error.hint is not None
    assert expected_hint in error.hint


def test_unreachable_authority_is_transient() -> None:
    authority, clock = Authority(), Clock()
    authority.transport.on("*", r".", lambda r: refused())
    with pytest.raises(AuthUnavailable):
        _provider(authority, clock).token()


def test_the_secret_is_masked_in_logs() -> None:
    authority, clock = Authority(), Clock()
    _provider(authority, clock, client_secret="a-very-secret-value-42")
    assert "a-very-secret-value-42" not in redact("secret is a-very-secret-value-42")


def test_instance_discovery_only_for_microsoft_clouds() -> None:
    assert is_microsoft_authority("https://login.microsoftonline.com/contoso.onmicrosoft.com")
    assert is_microsoft_authority("https://login.microsoftonline.us/tenant")
    assert not is_microsoft_authority("https://127.0.0.1:8443/tenant-1")


def test_non_https_authority_is_refused() -> None:
    with pytest.raises(AuthError, match="not an https URL"):
        TokenProvider(
            "http://login.fake.test/t",
            "c",
            SCOPE,
            client_secret="x",
            http_session=requests.Session(),
        )


def test_certificate_credential_sends_a_signed_assertion(tmp_path: Path) -> None:
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    cert = ca.issue_cert("clmsync.example", key_type=trustme.KeyType.RSA)
    pem = tmp_path / "client.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    authority, clock = Authority(), Clock()
    tokens = _provider(
        authority,
        clock,
        client_secret=None,
        certificate=ClientCertificate(pem, "AB:CD:" + "0" * 36),
    )
    assert tokens.token() == "tok-1"
    form = authority.forms[0]
    assert "client_secret" not in form
    assert form["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    header = json.loads(
        __import__("base64").urlsafe_b64decode(form["client_assertion"][0].split(".")[0] + "==")
    )
    assert header["alg"] == "RS256"
