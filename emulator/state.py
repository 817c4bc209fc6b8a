"""Everything one running emulator holds: identity, options, store, apps, faults, jobs, blobs."""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from connectors import catalog
from emulator.assertion import Certificate
from emulator.faults import Faults, Stats
from emulator.store import Store


@dataclass
class Options:
    """Behaviour settings, changeable at start and through ``POST /_emulator/config``."""

    page_size: int = 10_000  # server-driven OData page size
    token_lifetime: int = 3600  # seconds
    execution_queue_seconds: float = 0.5  # NotRun before an execution starts
    execution_fixed_seconds: float = 1.0  # minimum time Executing
    execution_row_seconds: float = 0.000002  # extra Executing time per row
    status_visible_after: float = 0.0  # status polls answer 400 "were not found" until then
    error_file_seconds: float = 0.5  # time to generate an import error-keys file
    blob_sas_lifetime: int = 3600  # seconds a blob URL stays valid
    latency_ms: int = 0  # added to every request
    max_batch_operations: int = 5000

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply ``changes`` (unknown names or negative values raise ``ValueError``)."""
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown option {name!r}; known: {', '.join(sorted(known))}")
            kind = int if known[name].type in ("int", int) else float
            try:
                number = kind(value)
            except (TypeError, ValueError):
                raise ValueError(f"option {name} must be a number, got {value!r}") from None
            if number < 0 or (name in ("page_size", "max_batch_operations") and number < 1):
                raise ValueError(f"option {name} out of range: {value!r}")
            setattr(self, name, number)

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class App:
    """A row of SCM's "Microsoft Entra ID applications" form, with its Entra credentials.

    ``user_id`` is the SCM user the application acts as (None: not set up in SCM, so SCM
    refuses its tokens); ``roles`` are that user's security roles and ``company`` its default
    company (what OData reads see without ``cross-company=true``).
    """

    client_id: str
    client_secret: str
    name: str
    user_id: str | None
    roles: tuple[str, ...]
    company: str = "usmf"
    object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    certificate: Certificate | None = None  # for certificate credentials (client assertions)

    @property
    def is_clm_app(self) -> bool:
        return catalog.CLM_INTEGRATION_ROLE in self.roles

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("client_secret")
        data["roles"] = list(self.roles)
        data["certificate"] = self.certificate.sha1 if self.certificate else None
        return data


@dataclass(frozen=True)
class Identity:
    """The tenant and the secrets of one emulator (kept across restarts of a state dir)."""

    tenant_id: str
    client_id: str
    client_secret: str
    clm_api_key: str
    admin_token: str

    @classmethod
    def new(cls) -> Identity:
        return cls(
            tenant_id=str(uuid.uuid4()),
            client_id=str(uuid.uuid4()),
            client_secret=secrets.token_urlsafe(30),
            clm_api_key=secrets.token_urlsafe(24),
            admin_token=secrets.token_urlsafe(24),
        )


class EmulatorState:
    """The state one app instance serves. ``base_url`` is ``https://127.0.0.1:<port>``."""

    def __init__(
        self,
        *,
        state_dir: Path,
        base_url: str,
        identity: Identity,
        options: Options | None = None,
        store: Store | None = None,
    ) -> None:
        from emulator.blob import BlobStore
        from emulator.dmf_jobs import DmfEngine

        self.state_dir = state_dir
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.tenant_id = identity.tenant_id
        self.scm_url = f"{self.base_url}/scm"
        self.authority = f"{self.base_url}/{identity.tenant_id}"
        self.clm_url = f"{self.base_url}/clm/api/v1"
        self.options = options or Options()
        self.store = store or Store()
        self.signing_key = secrets.token_bytes(32)
        self.tokens_invalid_before = 0.0
        self.faults = Faults()
        self.stats = Stats()
        self.world_dir: Path | None = None
        self.world: dict[str, Any] | None = None
        self.lock = threading.Lock()
        self.apps: dict[str, App] = {}
        self.register_app(
            App(
                client_id=identity.client_id,
                client_secret=identity.client_secret,
                name="clmsync",
                user_id="clmsync-svc",
                roles=(catalog.CLM_INTEGRATION_ROLE, catalog.DATA_MANAGEMENT_ROLE),
            )
        )
        self.blobs = BlobStore(self)
        self.dmf = DmfEngine(self)

    @property
    def odata_root(self) -> str:
        return f"{self.scm_url}/data"

    def register_app(self, app: App) -> App:
        with self.lock:
            self.apps[app.client_id.lower()] = app
        return app

    def find_app(self, client_id: str) -> App | None:
        with self.lock:
            return self.apps.get(client_id.lower())

    def register_from(self, spec: Mapping[str, Any]) -> App:
        """Register an application from an admin request (id and secret generated if absent)."""
        allowed = {
            "client_id",
            "client_secret",
            "name",
            "user_id",
            "roles",
            "company",
            "certificate_pem",
        }
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise ValueError(f"unknown application field(s) {unknown}")
        roles = spec.get("roles", [catalog.CLM_INTEGRATION_ROLE])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ValueError("roles must be a list of role names")
        return self.register_app(
            App(
                client_id=str(spec.get("client_id") or uuid.uuid4()),
                client_secret=str(spec.get("client_secret") or secrets.token_urlsafe(30)),
                name=str(spec.get("name", "app")),
                user_id=spec.get("user_id", "app-user"),
                roles=tuple(roles),
                company=str(spec.get("company", "usmf")).lower(),
                certificate=Certificate.from_pem(spec["certificate_pem"])
                if spec.get("certificate_pem")
                else None,
            )
        )
