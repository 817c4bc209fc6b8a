"""clmsync's settings: one typed model, read from ``clmsync.toml`` and the environment.

Precedence, highest first: environment variables (``CLMSYNC__SCM__CLIENT_SECRET`` style), then the
settings file, then defaults. Relative paths in the file are resolved against the file's folder,
so a settings file and its data can move together. Settings enter once, at the edge (the CLI or a
flow's entry point), and are passed down as plain typed arguments.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connectors import catalog
from connectors.errors import ConfigError
from connectors.redact import register_secret

CONFIG_ENV = "CLMSYNC_CONFIG"
DEFAULT_CONFIG = Path("clmsync.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScmSettings(_Section):
    """How to reach SCM and authenticate to it as a Microsoft Entra ID application."""

    environment_url: str = Field(
        description="SCM base URL, e.g. https://contoso.operations.dynamics.com"
    )
    tenant_id: str = Field(description="Microsoft Entra tenant (directory) id or domain")
    authority_host: str = Field(
        "https://login.microsoftonline.com", description="Entra ID authority host"
    )
    client_id: str = Field(description="Application (client) id registered in SCM")
    client_secret: SecretStr | None = Field(
        None, description="Client secret (or use a certificate)"
    )
    certificate_path: Path | None = Field(
        None, description="PEM with the private key and certificate"
    )
    certificate_thumbprint: str | None = Field(
        None, description="SHA-1 thumbprint of the certificate"
    )
    ca_bundle: Path | None = Field(
        None, description="PEM bundle to trust instead of the system store"
    )
    default_legal_entity: str = Field(description="The application user's default company")
    timeout_seconds: float = Field(60.0, gt=0, description="Timeout of one HTTP request")
    retry_deadline_seconds: float = Field(
        900.0, gt=0, description="How long one call may keep retrying throttling and outages"
    )
    package_timeout_seconds: float = Field(
        3600.0, gt=0, description="How long to wait for one package execution"
    )
    package_poll_seconds: float = Field(
        5.0, gt=0, description="First wait between execution status polls (then doubles)"
    )
    package_max_poll_seconds: float = Field(
        60.0, gt=0, description="Longest wait between execution status polls"
    )
    data_project_prefix: str = Field(
        "CLMSYNC", description="Prefix of the data projects clmsync owns"
    )

    @model_validator(mode="after")
    def _check(self) -> ScmSettings:
        if not self.environment_url.startswith("https://"):
            raise ValueError("environment_url must start with https://")
        if self.environment_url.endswith("/"):
            object.__setattr__(self, "environment_url", self.environment_url.rstrip("/"))
        if not self.authority_host.startswith("https://"):
            raise ValueError("authority_host must start with https://")
        has_secret = self.client_secret is not None and self.client_secret.get_secret_value()
        if not has_secret and self.certificate_path is None:
            raise ValueError("set client_secret or certificate_path")
        if self.certificate_path is not None and not self.certificate_thumbprint:
            raise ValueError("certificate_thumbprint is required with certificate_path")
        return self

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def scope(self) -> str:
        return f"{self.environment_url}/.default"


class ClmSettings(_Section):
    """Where the CLM's data comes from: its REST API or a folder of export files."""

    api_url: str | None = Field(
        None, description="CLM API base URL, e.g. https://clm.example.com/clm/api/v1"
    )
    export_folder: Path | None = Field(None, description="Folder holding CLM export folders")
    api_key: SecretStr | None = Field(None, description="CLM API key (sent as X-Api-Key)")
    ca_bundle: Path | None = Field(None, description="PEM bundle to trust for the CLM API")
    page_size: int = Field(
        1000, ge=1, le=1000, description="Objects per page (the API's limit is 1,000)"
    )
    overlap_seconds: int = Field(
        300, ge=0, description="How far before the last cursor an incremental read starts again"
    )
    timeout_seconds: float = Field(60.0, gt=0, description="Timeout of one HTTP request")

    @model_validator(mode="after")
    def _check(self) -> ClmSettings:
        if (self.api_url is None) == (self.export_folder is None):
            raise ValueError("set exactly one of api_url and export_folder")
        if self.api_url is not None:
            if not self.api_url.startswith("https://"):
                raise ValueError("api_url must start with https://")
            if self.api_key is None or not self.api_key.get_secret_value():
                raise ValueError("api_key is required with api_url")
        return self


class WarehouseSettings(_Section):
    """Where the DuckDB files live."""

    path: Path = Field(Path("data/warehouse.duckdb"), description="The warehouse (one writer)")
    analytics_path: Path = Field(
        Path("data/analytics.duckdb"), description="Read-only snapshot published after each run"
    )
    landing_dir: Path = Field(Path("data/landing"), description="Downloaded packages and files")
    memory_limit: str | None = Field(None, description="DuckDB memory_limit, e.g. '2GB'")
    threads: int | None = Field(None, ge=1, description="DuckDB threads (default: all cores)")


class SyncSettings(_Section):
    """What to sync and the rules that guard pushes."""

    legal_entities: list[str] = Field(min_length=1, description="Legal entities in scope")
    entities: list[str] = Field(
        default_factory=lambda: [e.name for e in catalog.synced_entities()],
        description="SCM entity sets in scope (OData names)",
    )
    odata_row_threshold: int = Field(
        120,
        ge=0,
        description="At or under this many rows an entity is pushed through OData "
        "(default: the crossover measured by python -m bench.push)",
    )
    changeset_size: int = Field(100, ge=1, le=5000, description="Operations per OData changeset")
    guardrail_share: float = Field(
        0.25, gt=0, le=1, description="Refuse a plan changing more than this share of an entity"
    )
    approval_threshold: int = Field(
        10000, ge=0, description="Plans with more rows than this wait for approval in the UI"
    )
    extract_concurrency: int = Field(4, ge=1, le=32, description="Entities extracted at once")
    key_snapshot_every_runs: int = Field(
        1, ge=1, description="Check for deleted records every N runs"
    )
    partially_succeeded: Literal["fail", "accept"] = Field(
        "fail", description="How a PartiallySucceeded export is treated"
    )
    schedule_cron: str = Field("0 */6 * * *", description="When the reconcile deployment runs")

    @model_validator(mode="after")
    def _check(self) -> SyncSettings:
        for name in self.entities:
            try:
                found = catalog.entity(name)
            except KeyError as exc:
                raise ValueError(str(exc.args[0])) from None
            if found.direction == "control":
                raise ValueError(f"{name} is a data management control entity, not data")
        object.__setattr__(self, "legal_entities", [le.lower() for le in self.legal_entities])
        return self


class Settings(BaseSettings):
    """All of clmsync's settings."""

    model_config = SettingsConfigDict(
        env_prefix="CLMSYNC__", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    scm: ScmSettings
    clm: ClmSettings
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)
    sync: SyncSettings
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's contents arrive as init values; the environment overrides them.
        return env_settings, init_settings

    def masked(self) -> dict[str, Any]:
        """The settings as plain data, secrets shown as ``**********``."""
        return _mask(self.model_dump(mode="python"))


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, SecretStr):
        return "**********" if value.get_secret_value() else ""
    if isinstance(value, Path):
        return str(value)
    return value


def config_path(explicit: Path | None = None) -> Path | None:
    """The settings file: ``--config``, else ``$CLMSYNC_CONFIG``, else ``./clmsync.toml``."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the settings; raise :class:`ConfigError` naming the first bad key."""
    source = config_path(path)
    data: dict[str, Any] = {}
    if source is not None:
        if not source.is_file():
            raise ConfigError(
                "config", f"settings file {source} does not exist", source=str(source)
            )
        try:
            with source.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("config", f"not valid TOML: {exc}", source=str(source)) from None
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or "config"
        problem = error["msg"]
        if error["type"] == "missing":
            problem = "missing (required)"
        elif error["type"] == "extra_forbidden":
            problem = "unknown setting"
        raise ConfigError(key, problem, source=str(source) if source else "environment") from None
    if source is not None:
        settings = _resolve_paths(settings, source.parent.resolve())
    _register_secrets(settings)
    return settings


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    def resolve(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else base / p

    wh = settings.warehouse
    return settings.model_copy(
        update={
            "scm": settings.scm.model_copy(
                update={
                    "ca_bundle": resolve(settings.scm.ca_bundle),
                    "certificate_path": resolve(settings.scm.certificate_path),
                }
            ),
            "clm": settings.clm.model_copy(
                update={
                    "export_folder": resolve(settings.clm.export_folder),
                    "ca_bundle": resolve(settings.clm.ca_bundle),
                }
            ),
            "warehouse": wh.model_copy(
                update={
                    "path": resolve(wh.path),
                    "analytics_path": resolve(wh.analytics_path),
                    "landing_dir": resolve(wh.landing_dir),
                }
            ),
        }
    )


def _register_secrets(settings: Settings) -> None:
    for secret in (settings.scm.client_secret, settings.clm.api_key):
        if secret is not None:
            register_secret(secret.get_secret_value())
