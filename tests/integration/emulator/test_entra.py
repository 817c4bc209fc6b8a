"""Entra ID and SCM's bearer check: msal against the emulator, the AADSTS errors, 401 and 403."""

from __future__ import annotations

import base64
import json
import time

import msal
import pytest

from connectors import catalog
from emulator.server import EmulatorInfo
from tests.integration.emulator.conftest import Scm


def _token_request(emu: EmulatorInfo, **form: str) -> tuple[int, dict[str, object]]:
    data = {
        "grant_type": "client_credentials",
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "scope": f"{emu.scm_url}/.default",
        **form,
    }
    with emu.session() as session:
        response = session.post(f"{emu.authority}/oauth2/v2.0/token", data=data, timeout=30)
    return response.status_code, response.json()


def _msal_app(emu: EmulatorInfo, secret: str | None = None) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        emu.client_id,
        authority=emu.authority,
        client_credential=secret or emu.client_secret,
        instance_discovery=False,
        http_client=emu.session(),
    )


def test_msal_gets_a_token_and_serves_the_second_from_its_cache(emu: EmulatorInfo) -> None:
    emu.reset_stats()
    app = _msal_app(emu)
    scopes = [f"{emu.scm_url}/.default"]
    first = app.acquire_token_for_client(scopes=scopes)
    assert "access_token" in first, first
    assert first["token_type"] == "Bearer"
    second = app.acquire_token_for_client(scopes=scopes)
    assert second["access_token"] == first["access_token"]
    assert second.get("token_source") == "cache"
    token_calls = {
        k: v for k, v in emu.stats()["requests"].items() if k.endswith("/oauth2/v2.0/token")
    }
    assert list(token_calls.values()) == [1]
    # and SCM accepts it
    assert Scm(emu, first["access_token"]).get("LegalEntities").status_code == 200


def test_discovery_document_points_at_the_token_endpoint(emu: EmulatorInfo) -> None:
    with emu.session() as session:
        doc = session.get(
            f"{emu.authority}/v2.0/.well-known/openid-configuration", timeout=30
        ).json()
    assert doc["token_endpoint"] == f"{emu.authority}/oauth2/v2.0/token"
    assert doc["issuer"] == f"{emu.authority}/v2.0"
    assert doc["authorization_endpoint"].startswith(emu.authority)


def _claims(token: object) -> dict[str, object]:
    payload = str(token).split(".")[1]
    claims: dict[str, object] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def test_token_is_jwt_shaped_with_the_claims_scm_reads(emu: EmulatorInfo) -> None:
    status, body = _token_request(emu)
    assert status == 200
    assert body["expires_in"] == 3600
    claims = _claims(body["access_token"])
    assert claims["appid"] == emu.client_id
    assert claims["tid"] == emu.tenant_id
    assert claims["aud"] == emu.scm_url
    assert claims["exp"] - claims["iat"] == 3600
    assert catalog.CLM_INTEGRATION_ROLE in claims["roles"]
    assert claims["oid"]


def test_wrong_secret_is_invalid_client_7000215(emu: EmulatorInfo) -> None:
    status, body = _token_request(emu, client_secret="not-the-secret")
    assert status == 401
    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert str(body["error_description"]).startswith(
        "AADSTS7000215: Invalid client secret provided."
    )
    assert "Trace ID:" in str(body["error_description"])


def test_msal_reports_the_wrong_secret(emu: EmulatorInfo) -> None:
    result = _msal_app(emu, "wrong").acquire_token_for_client(scopes=[f"{emu.scm_url}/.default"])
    assert result["error"] == "invalid_client"
    assert 7000215 in result["error_codes"]


def test_unknown_client_is_700016(emu: EmulatorInfo) -> None:
    status, body = _token_request(emu, client_id="00000000-1111-2222-3333-444444444444")
    assert status == 400
    assert body["error"] == "unauthorized_client"
    assert str(body["error_description"]).startswith(
        "AADSTS700016: Application with identifier '00000000-1111-2222-3333-444444444444' was not "
        "found in the directory"
    )


@pytest.mark.parametrize(
    ("scope", "error", "code"),
    [
        ("https://other.example.com/.default", "invalid_resource", 500011),
        ("{scm}/user_impersonation", "invalid_scope", 70011),
    ],
)
def test_wrong_scope_gets_entra_errors(
    emu: EmulatorInfo, scope: str, error: str, code: int
) -> None:
    status, body = _token_request(emu, scope=scope.format(scm=emu.scm_url))
    assert status == 400
    assert body["error"] == error
    assert body["error_codes"] == [code]


def test_unknown_tenant_is_refused(emu: EmulatorInfo) -> None:
    with emu.session() as session:
        response = session.post(
            f"{emu.base_url}/no-such-tenant/oauth2/v2.0/token",
            data={"grant_type": "client_credentials"},
            timeout=30,
        )
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_missing_token_is_401(emu: EmulatorInfo) -> None:
    with emu.session() as session:
        response = session.get(f"{emu.scm_url}/data/VendorsV2", timeout=30)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_scope_with_a_trailing_slash_gives_a_token_scm_refuses(emu: EmulatorInfo) -> None:
    status, body = _token_request(emu, scope=f"{emu.scm_url}//.default")
    assert status == 200
    assert Scm(emu, str(body["access_token"])).get("LegalEntities").status_code == 401


def test_expired_token_is_401(emu: EmulatorInfo) -> None:
    # Three seconds, not one: ``exp`` is in whole seconds, so a one-second token issued late in
    # a second lives only what is left of it, less than a loaded machine takes to use it.
    emu.set_fault(kind="token_expiry", expires_in=3, count=1)
    status, body = _token_request(emu)
    assert status == 200
    assert body["expires_in"] == 3
    client = Scm(emu, str(body["access_token"]))
    assert client.get("LegalEntities").status_code == 200
    expiry = _claims(body["access_token"])["exp"]
    assert isinstance(expiry, int)
    time.sleep(max(0.0, expiry - time.time()) + 0.2)
    assert client.get("LegalEntities").status_code == 401
    # the fault was for one token only
    assert _token_request(emu)[1]["expires_in"] == 3600


def test_invalidating_all_tokens(emu: EmulatorInfo) -> None:
    client = Scm(emu)
    assert client.get("LegalEntities").status_code == 200
    emu.admin("POST", "faults", {"kind": "token_invalidate"})
    assert client.get("LegalEntities").status_code == 401
    time.sleep(1.1)
    assert Scm(emu).get("LegalEntities").status_code == 200


def test_user_without_the_clm_role_gets_403_naming_it(emu: EmulatorInfo) -> None:
    app = emu.register_app(name="reader", roles=[catalog.DATA_MANAGEMENT_ROLE])
    client = Scm(emu, emu.token(app["client_id"], app["client_secret"]))
    response = client.get("VendorsV2")
    assert response.status_code == 403
    message = response.json()["error"]["innererror"]["message"]
    assert f"'{catalog.CLM_INTEGRATION_ROLE}'" in message
    assert "VendorsV2" in message
    # the same user may use the data management entities
    assert client.get("DataManagementDefinitionGroups").status_code == 200


def test_app_without_an_scm_user_is_refused(emu: EmulatorInfo) -> None:
    app = emu.register_app(name="no-user", user_id=None)
    token = emu.token(app["client_id"], app["client_secret"])
    assert Scm(emu, token).get("LegalEntities").status_code == 401


def test_certificate_credentials_with_msal(emu: EmulatorInfo) -> None:
    import trustme

    from emulator.assertion import Certificate

    issued = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert(
        "clmsync-client.example", key_type=trustme.KeyType.RSA
    )
    cert_pem = issued.cert_chain_pems[0].bytes().decode()
    key_pem = issued.private_key_pem.bytes().decode()
    app = emu.register_app(name="cert-app", certificate_pem=cert_pem)
    thumbprint = Certificate.from_pem(cert_pem).sha1
    scopes = [f"{emu.scm_url}/.default"]
    for credential in (
        {"private_key": key_pem, "thumbprint": thumbprint},  # RS256, x5t
        {"private_key": key_pem, "public_certificate": cert_pem},  # PS256, x5t#S256
    ):
        client = msal.ConfidentialClientApplication(
            app["client_id"],
            authority=emu.authority,
            client_credential=credential,
            instance_discovery=False,
            http_client=emu.session(),
        )
        result = client.acquire_token_for_client(scopes=scopes)
        assert "access_token" in result, result
        assert Scm(emu, result["access_token"]).get("LegalEntities").status_code == 200
    other = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert(
        "someone-else.example", key_type=trustme.KeyType.RSA
    )
    stranger = msal.ConfidentialClientApplication(
        app["client_id"],
        authority=emu.authority,
        client_credential={
            "private_key": other.private_key_pem.bytes().decode(),
            "thumbprint": Certificate.from_pem(other.cert_chain_pems[0].bytes().decode()).sha1,
        },
        instance_discovery=False,
        http_client=emu.session(),
    )
    refused = stranger.acquire_token_for_client(scopes=scopes)
    assert refused["error"] == "invalid_client"
    assert refused["error_codes"] == [700027]
