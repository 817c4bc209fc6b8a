"""The connectors against the running emulator: real HTTPS, real msal, real faults."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.auth import TokenProvider
from connectors.clm import ClmClient
from connectors.dmf import PackageApi
from connectors.http import RetryPolicy, build_session
from connectors.odata import ODataClient
from emulator.server import EmulatorInfo, running_emulator
from tests.integration.emulator.tiny_world import populate

FAST = {
    "execution_queue_seconds": 0.0,
    "execution_fixed_seconds": 0.05,
    "execution_row_seconds": 0.0,
    "error_file_seconds": 0.0,
}


@dataclass
class Clients:
    """Everything a flow would build from the settings, pointed at the emulator."""

    info: EmulatorInfo
    tokens: TokenProvider
    odata: ODataClient
    packages: PackageApi
    clm: ClmClient
    policy: RetryPolicy


def make_clients(
    info: EmulatorInfo,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    **policy: float,
) -> Clients:
    session = build_session(ca_bundle=Path(info.ca_cert), timeout=30.0)
    options = {"deadline": 60.0, "base_backoff": 0.05, "max_backoff": 0.5}
    options.update(policy)
    retry = RetryPolicy(**options)  # type: ignore[arg-type]
    tokens = TokenProvider(
        info.authority,
        client_id or info.client_id,
        f"{info.scm_url}/.default",
        client_secret=client_secret or info.client_secret,
        http_session=session,
        policy=retry,
    )
    odata = ODataClient(info.scm_url, tokens, session, retry)
    return Clients(
        info=info,
        tokens=tokens,
        odata=odata,
        packages=PackageApi(odata, poll=0.05, max_poll=0.2),
        clm=ClmClient(info.clm_url, info.clm_api_key, session, retry),
        policy=retry,
    )


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorInfo]:
    with running_emulator(**FAST) as info:
        assert info.state is not None
        populate(info.state.store)
        yield info


@pytest.fixture(scope="module")
def clients(emu: EmulatorInfo) -> Clients:
    return make_clients(emu)


@pytest.fixture(autouse=True)
def _no_faults_left(emu: EmulatorInfo) -> Iterator[None]:
    yield
    emu.clear_faults()
