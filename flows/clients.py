"""Build the connectors from the settings, once per run.

This is the only place that turns settings into clients; flows, the loader's callers and the CLI
all go through it, so a CA bundle, a timeout or a retry deadline is honoured everywhere alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import requests

from connectors.auth import ClientCertificate, TokenProvider
from connectors.clm import ClmClient
from connectors.dmf import PackageApi
from connectors.http import RetryPolicy, build_session
from connectors.odata import ODataClient
from flows.settings import Settings


@dataclass
class Clients:
    """The connectors one run uses. ``clm`` is None when the CLM delivers export folders."""

    odata: ODataClient
    packages: PackageApi
    tokens: TokenProvider
    clm: ClmClient | None
    clm_export_folder: Path | None
    sessions: tuple[requests.Session, ...]

    def close(self) -> None:
        for session in self.sessions:
            session.close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_clients(settings: Settings, *, policy: RetryPolicy | None = None) -> Clients:
    """Wire every connector from ``settings`` (one SCM session, one CLM session)."""
    scm = settings.scm
    policy = policy or RetryPolicy(deadline=scm.retry_deadline_seconds)
    scm_session = build_session(ca_bundle=scm.ca_bundle, timeout=scm.timeout_seconds)
    certificate = (
        ClientCertificate(scm.certificate_path, scm.certificate_thumbprint or "")
        if scm.certificate_path
        else None
    )
    tokens = TokenProvider(
        scm.authority,
        scm.client_id,
        scm.scope,
        client_secret=scm.client_secret.get_secret_value()
        if scm.client_secret and certificate is None
        else None,
        certificate=certificate,
        http_session=scm_session,
        policy=policy,
    )
    odata = ODataClient(scm.environment_url, tokens, scm_session, policy)
    packages = PackageApi(
        odata, poll=scm.package_poll_seconds, max_poll=scm.package_max_poll_seconds
    )
    sessions: list[requests.Session] = [scm_session]
    clm: ClmClient | None = None
    if settings.clm.api_url is not None and settings.clm.api_key is not None:
        clm_session = build_session(
            ca_bundle=settings.clm.ca_bundle, timeout=settings.clm.timeout_seconds
        )
        sessions.append(clm_session)
        clm = ClmClient(
            settings.clm.api_url, settings.clm.api_key.get_secret_value(), clm_session, policy
        )
    return Clients(
        odata=odata,
        packages=packages,
        tokens=tokens,
        clm=clm,
        clm_export_folder=settings.clm.export_folder,
        sessions=tuple(sessions),
    )
