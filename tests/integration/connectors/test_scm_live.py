"""Auth, OData reads and writes, $batch, throttling and token expiry against the emulator."""

from __future__ import annotations

import time

import pytest

from connectors.errors import AuthError, ODataRequestError, PermissionDenied
from connectors.odata import Operation, filter_in
from emulator.server import EmulatorInfo
from tests.integration.connectors.conftest import Clients, make_clients
from tests.integration.emulator.tiny_world import SPECIAL_VENDORS


def test_msal_token_from_the_emulator_is_cached(clients: Clients, emu: EmulatorInfo) -> None:
    emu.reset_stats()
    first = clients.tokens.token()
    assert first == clients.tokens.token()
    token_requests = [k for k in emu.stats()["requests"] if "/oauth2/v2.0/token" in k]
    assert sum(emu.stats()["requests"][k] for k in token_requests) <= 1


def test_wrong_secret_and_unknown_app_get_aadsts_codes(emu: EmulatorInfo) -> None:
    with pytest.raises(AuthError) as caught:
        make_clients(emu, client_secret="wrong-secret-123").tokens.token()
    assert caught.value.code == "AADSTS7000215"
    with pytest.raises(AuthError) as caught:
        make_clients(emu, client_id="00000000-0000-0000-0000-00000000abcd").tokens.token()
    assert caught.value.code == "AADSTS700016"
    assert "Microsoft Entra ID applications" in (caught.value.hint or "")


def test_missing_role_is_permission_denied_naming_entity_and_role(emu: EmulatorInfo) -> None:
    app = emu.register_app(name="no-clm-role", roles=["Data management administrator"])
    limited = make_clients(emu, client_id=app["client_id"], client_secret=app["client_secret"])
    with pytest.raises(PermissionDenied) as caught:
        list(limited.odata.pages("CLMIntegrationContracts"))
    assert caught.value.resource == "CLMIntegrationContracts"
    assert "CLM integration" in (caught.value.hint or "")


def test_app_not_set_up_in_scm_is_refused_after_one_refresh(emu: EmulatorInfo) -> None:
    app = emu.register_app(name="no-user", user_id=None)
    outsider = make_clients(emu, client_id=app["client_id"], client_secret=app["client_secret"])
    with pytest.raises(AuthError, match="SCM refused the token"):
        list(outsider.odata.pages("VendorsV2"))


def test_paged_read_follows_next_links_across_companies(
    clients: Clients, emu: EmulatorInfo
) -> None:
    emu.configure(page_size=10)
    try:
        pages = list(
            clients.odata.pages(
                "VendorsV2",
                select=["dataAreaId", "VendorAccountNumber"],
                cross_company=True,
                orderby="VendorAccountNumber",
            )
        )
    finally:
        emu.configure(page_size=10_000)
    rows = [r for p in pages for r in p]
    assert len(pages) > 1
    assert max(len(p) for p in pages) == 10
    assert len(rows) == clients.odata.count("VendorsV2", cross_company=True)
    assert {r["dataAreaId"] for r in rows} == {"usmf", "demf", "gbsi", "jpmf", "cnmf"}
    default_company = [r for p in clients.odata.pages("VendorsV2") for r in p]
    assert {r["dataAreaId"] for r in default_company} == {"usmf"}
    assert clients.odata.count("VendorsV2") == len(default_company)


def test_keys_with_quotes_spaces_and_ampersands_round_trip(
    clients: Clients, emu: EmulatorInfo
) -> None:
    for account in SPECIAL_VENDORS:
        row = clients.odata.get("VendorsV2", {"dataAreaId": "usmf", "VendorAccountNumber": account})
        assert row is not None
        assert row["VendorAccountNumber"] == account
    assert (
        clients.odata.get("VendorsV2", {"dataAreaId": "usmf", "VendorAccountNumber": "nope"})
        is None
    )
    found = []
    for text in filter_in("VendorAccountNumber", SPECIAL_VENDORS, max_length=60):
        found += [r for p in clients.odata.pages("VendorsV2", filter=text) for r in p]
    assert sorted(r["VendorAccountNumber"] for r in found) == sorted(SPECIAL_VENDORS)
    emu_requests = emu.stats()["requests"]
    before = sum(v for k, v in emu_requests.items() if k.startswith("GET /scm/data/VendorsV2"))
    wanted = [*SPECIAL_VENDORS, "US-V0000001", "US-V0000002", "DE-V0000001"]
    rows = [
        r
        for p in clients.odata.pages_in(
            "VendorsV2",
            "VendorAccountNumber",
            wanted,
            filter="dataAreaId eq 'usmf'",
            cross_company=True,
            max_filter_length=120,
        )
        for r in p
    ]
    assert sorted(r["VendorAccountNumber"] for r in rows) == sorted(wanted[:-1])
    emu_requests = emu.stats()["requests"]
    after = sum(v for k, v in emu_requests.items() if k.startswith("GET /scm/data/VendorsV2"))
    assert after - before > 1  # the list was split into several requests
    with pytest.raises(ODataRequestError, match="NoSuchSet"):
        list(clients.odata.pages("NoSuchSet"))


def test_create_update_with_etag_and_delete(clients: Clients) -> None:
    created = clients.odata.create(
        "CLMIntegrationContracts",
        {
            "LegalEntityId": "usmf",
            "ExternalContractId": "K-9100001",
            "ContractType": "PurchaseAgreement",
            "ContractStatus": "Draft",
            "ContractName": "Created by the connector test",
        },
    )
    keys = {"LegalEntityId": "usmf", "ContractId": created["ContractId"]}
    clients.odata.update(
        "CLMIntegrationContracts", keys, {"ContractStatus": "Executed"}, etag=created["@odata.etag"]
    )
    after = clients.odata.get("CLMIntegrationContracts", keys)
    assert after is not None
    assert after["ContractStatus"] == "Executed"
    with pytest.raises(ODataRequestError) as stale:
        clients.odata.update(
            "CLMIntegrationContracts", keys, {"ContractName": "x"}, etag=created["@odata.etag"]
        )
    assert stale.value.status == 412
    with pytest.raises(ODataRequestError, match="already exists"):
        clients.odata.create(
            "CLMIntegrationContracts",
            {
                "LegalEntityId": "usmf",
                "ExternalContractId": "K-9100001",
                "ContractType": "PurchaseAgreement",
                "ContractStatus": "Draft",
            },
        )
    clients.odata.delete("CLMIntegrationContracts", keys)
    assert clients.odata.get("CLMIntegrationContracts", keys) is None


def test_batch_second_changeset_fails_while_the_first_is_applied(clients: Clients) -> None:
    def contract(external: str) -> dict[str, str]:
        return {
            "LegalEntityId": "usmf",
            "ExternalContractId": external,
            "ContractType": "PurchaseAgreement",
            "ContractStatus": "Draft",
        }

    results = clients.odata.batch(
        [
            [Operation("POST", "CLMIntegrationContracts", body=contract("K-9200001"))],
            [
                Operation("POST", "CLMIntegrationContracts", body=contract("K-9200002")),
                Operation("POST", "CLMIntegrationContracts", body=contract("K-9200001")),
            ],
        ]
    )
    assert results[0].ok
    assert results[0].status == 201
    assert not results[1].ok
    assert not results[2].ok
    assert any("already exists" in (r.error or "") for r in results[1:])

    def exists(external: str) -> bool:
        text = f"ExternalContractId eq '{external}'"
        return any(p for p in clients.odata.pages("CLMIntegrationContracts", filter=text))

    assert exists("K-9200001")
    assert not exists("K-9200002")  # rolled back with its changeset


def test_throttled_read_waits_what_retry_after_says_and_succeeds(
    clients: Clients, emu: EmulatorInfo
) -> None:
    emu.set_fault(
        kind="throttle", path="/scm/data/VendorsV2", count=2, retry_after=1, message="concurrency"
    )
    emu.reset_stats()
    start = time.monotonic()
    rows = [r for p in clients.odata.pages("VendorsV2") for r in p]
    elapsed = time.monotonic() - start
    assert rows
    assert elapsed >= 2.0  # two answers of Retry-After: 1
    responses = emu.stats()["responses"]
    assert sum(v for k, v in responses.items() if k.endswith(" 429")) == 2


def test_token_expiry_in_the_middle_of_a_paged_read(clients: Clients, emu: EmulatorInfo) -> None:
    emu.configure(page_size=5)
    try:
        pages = clients.odata.pages("VendorsV2", cross_company=True)
        first = next(pages)
        emu.admin("POST", "faults", {"kind": "token_invalidate"})
        time.sleep(1.1)  # the emulator invalidates whole seconds: let the next one begin
        rest = [r for p in pages for r in p]
    finally:
        emu.configure(page_size=10_000)
    assert len(first) + len(rest) == clients.odata.count("VendorsV2", cross_company=True)
    responses = emu.stats()["responses"]
    assert any(k.endswith(" 401") for k in responses)


def test_short_lived_tokens_are_renewed_without_a_401(emu: EmulatorInfo) -> None:
    # Four seconds: a token's exp is in whole seconds, so it may end up to one second sooner
    # than the client reckons; what is left after renewal must outlast a loaded machine's call.
    emu.set_fault(kind="token_expiry", expires_in=4)
    fresh = make_clients(emu)
    first = fresh.tokens.token()
    time.sleep(2.2)  # past half the token's life
    assert fresh.tokens.token() != first
    emu.reset_stats()
    assert list(fresh.odata.pages("Currencies"))
    assert not any(k.endswith(" 401") for k in emu.stats()["responses"])


def test_an_untrusted_certificate_is_a_terminal_error_naming_the_ca_setting(
    emu: EmulatorInfo,
) -> None:
    from connectors.auth import TokenProvider
    from connectors.http import RetryPolicy, build_session

    session = build_session()  # the system store: the emulator's private CA is not in it
    tokens = TokenProvider(
        emu.authority,
        emu.client_id,
        f"{emu.scm_url}/.default",
        client_secret=emu.client_secret,
        http_session=session,
        policy=RetryPolicy(deadline=5),
    )
    with pytest.raises(AuthError) as caught:
        tokens.token()
    assert "scm.ca_bundle" in (caught.value.hint or "")
