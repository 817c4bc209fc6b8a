"""Running the emulator: HTTPS with a trustme CA, a state directory, in a thread or foreground.

A state directory holds what a client needs to use the emulator: ``emulator.json`` (URLs,
credentials, CA path, admin token), ``clmsync.toml`` (settings pointing clmsync at it, with the
warehouse files in the same directory), the CA certificate, the server certificate and key,
blob files, and the generated world when one was asked for. The tenant, client and keys are
kept across restarts of the same directory, so settings that name them stay valid.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import requests
import trustme
import uvicorn

from emulator.app import create_app
from emulator.state import EmulatorState, Identity, Options

LEGAL_ENTITIES = ("usmf", "demf", "gbsi", "jpmf", "cnmf")


@dataclass
class EmulatorInfo:
    """What ``emulator.json`` holds, plus helpers for tests and scripts."""

    scm_url: str
    authority: str
    tenant_id: str
    ca_cert: str
    client_id: str
    client_secret: str
    clm_url: str
    clm_api_key: str
    admin_token: str
    port: int
    pid: int
    world: dict[str, Any] | None
    state_dir: Path
    base_url: str
    state: EmulatorState | None = field(default=None, repr=False, compare=False)
    _admin_session: requests.Session | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("state", "_admin_session")
        }
        data["state_dir"] = str(self.state_dir)
        return data

    def session(self) -> requests.Session:
        """A session trusting the emulator's CA (and ignoring REQUESTS_CA_BUNDLE)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_cert
        return session

    def token(self, client_id: str | None = None, client_secret: str | None = None) -> str:
        """A bearer token from the emulator's token endpoint (no caching)."""
        with self.session() as session:
            response = session.post(
                f"{self.authority}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id or self.client_id,
                    "client_secret": client_secret or self.client_secret,
                    "scope": f"{self.scm_url}/.default",
                },
                timeout=30,
            )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call an admin endpoint (``path`` relative to ``/_emulator``); returns its JSON."""
        if self._admin_session is None:
            self._admin_session = self.session()
            self._admin_session.headers["X-Emulator-Admin"] = self.admin_token
            # Admin calls come seconds apart, past the server's keep-alive; reusing a pooled
            # connection then races the server closing it (RemoteDisconnected). One connection
            # per call costs a handshake and never races.
            self._admin_session.headers["Connection"] = "close"
        response = self._admin_session.request(
            method, f"{self.base_url}/_emulator/{path.lstrip('/')}", json=body, timeout=120
        )
        response.raise_for_status()
        return response.json()

    def set_fault(self, **spec: Any) -> dict[str, Any]:
        return dict(self.admin("POST", "faults", spec)["faults"][0])

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def stats(self) -> dict[str, Any]:
        return dict(self.admin("GET", "stats"))

    def reset_stats(self) -> None:
        self.admin("POST", "stats/reset")

    def configure(self, **options: Any) -> dict[str, Any]:
        return dict(self.admin("POST", "config", options))

    def register_app(self, **spec: Any) -> dict[str, Any]:
        return dict(self.admin("POST", "apps", spec))


def _identity(state_dir: Path) -> Identity:
    path = state_dir / "emulator.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            return Identity(**{k: data[k] for k in Identity.__dataclass_fields__})
        except (ValueError, KeyError, TypeError):
            pass
    return Identity.new()


def _certificates(state_dir: Path) -> tuple[Path, Path, Path]:
    ca = trustme.CA(organization_name="clmsync emulator")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = (state_dir / "ca.pem", state_dir / "server-cert.pem", state_dir / "server-key.pem")
    ca.cert_pem.write_to_path(str(paths[0]))
    with paths[1].open("wb") as handle:
        for blob in cert.cert_chain_pems:
            handle.write(blob.bytes())
    cert.private_key_pem.write_to_path(str(paths[2]))
    return paths


def _world(state_dir: Path, size: int, seed: int) -> Path:
    """Generate the world into ``state_dir/world`` (reused when size and seed match)."""
    world = state_dir / "world"
    marker = world / "world.json"
    reuse = False
    if marker.is_file():
        meta = json.loads(marker.read_text())
        reuse = meta.get("size") == size and meta.get("seed") == seed
    if not reuse:
        generator = importlib.import_module("emulator.world")
        shutil.rmtree(world, ignore_errors=True)
        generator.generate(size, seed, world)
    truth = world / "ground_truth.json"
    if truth.is_file():
        shutil.copyfile(truth, state_dir / "ground_truth.json")
    return world


def _toml(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def settings_toml(info: EmulatorInfo) -> str:
    """A complete clmsync settings file for this emulator (paths relative to the state dir)."""
    sections: dict[str, dict[str, Any]] = {
        "scm": {
            "environment_url": info.scm_url,
            "tenant_id": info.tenant_id,
            "authority_host": info.base_url,
            "client_id": info.client_id,
            "client_secret": info.client_secret,
            "ca_bundle": "ca.pem",
            "default_legal_entity": "usmf",
            # The emulator's executions finish in well under a second: poll accordingly.
            "package_poll_seconds": 0.2,
            "package_max_poll_seconds": 2.0,
        },
        "clm": {"api_url": info.clm_url, "api_key": info.clm_api_key, "ca_bundle": "ca.pem"},
        "warehouse": {
            "path": "warehouse.duckdb",
            "analytics_path": "analytics.duckdb",
            "landing_dir": "landing",
        },
        "sync": {"legal_entities": list(LEGAL_ENTITIES)},
    }
    lines = ["# Settings pointing clmsync at the local emulator (written on each start).", ""]
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the thread's owner handles signals
        pass


@dataclass
class _Prepared:
    state: EmulatorState
    info: EmulatorInfo
    config: uvicorn.Config
    sock: socket.socket
    temporary: bool


def _prepare(
    state_dir: Path | None,
    size: int | None,
    seed: int,
    port: int,
    world_dir: Path | None,
    faults: Sequence[Mapping[str, Any]],
    options: Mapping[str, Any],
) -> _Prepared:
    temporary = state_dir is None
    directory = (
        Path(tempfile.mkdtemp(prefix="clmsync-emulator-")) if state_dir is None else state_dir
    )
    directory.mkdir(parents=True, exist_ok=True)
    opts = Options()
    opts.update(options)
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    actual = sock.getsockname()[1]
    base = f"https://127.0.0.1:{actual}"
    identity = _identity(directory)
    state = EmulatorState(state_dir=directory, base_url=base, identity=identity, options=opts)
    prepared = None
    try:
        if size is not None:
            world_dir = _world(directory, size, seed)
        if world_dir is not None:
            state.world_dir = world_dir
            state.store.load_world(world_dir)
        state.world = {"size": size, "seed": seed} if size is not None else None
        for spec in faults:
            state.faults.add(dict(spec))
        ca, cert, key = _certificates(directory)
        info = EmulatorInfo(
            scm_url=state.scm_url,
            authority=state.authority,
            tenant_id=identity.tenant_id,
            ca_cert=str(ca),
            client_id=identity.client_id,
            client_secret=identity.client_secret,
            clm_url=state.clm_url,
            clm_api_key=identity.clm_api_key,
            admin_token=identity.admin_token,
            port=actual,
            pid=os.getpid(),
            world=state.world,
            state_dir=directory,
            base_url=base,
            state=state,
        )
        (directory / "emulator.json").write_text(json.dumps(info.to_json(), indent=2))
        (directory / "clmsync.toml").write_text(settings_toml(info))
        config = uvicorn.Config(
            create_app(state),
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
            log_level="warning",
            access_log=False,
            lifespan="off",
            # An idle keep-alive TLS connection would otherwise hold a Ctrl+C shutdown forever.
            timeout_graceful_shutdown=2,
        )
        prepared = _Prepared(state, info, config, sock, temporary)
        return prepared
    finally:
        if prepared is None:
            _cleanup(state, sock, directory if temporary else None)


def _cleanup(state: EmulatorState, sock: socket.socket, remove: Path | None) -> None:
    state.dmf.shutdown()
    sock.close()
    state.store.close()
    if remove is not None:
        shutil.rmtree(remove, ignore_errors=True)


@contextmanager
def running_emulator(
    state_dir: Path | None = None,
    size: int | None = None,
    seed: int = 0,
    port: int = 0,
    *,
    world_dir: Path | None = None,
    faults: Sequence[Mapping[str, Any]] = (),
    **options: Any,
) -> Iterator[EmulatorInfo]:
    """Start the emulator in a thread on 127.0.0.1 and yield its :class:`EmulatorInfo`.

    ``port`` 0 picks a free port. ``options`` are :class:`emulator.state.Options` fields
    (``page_size``, ``token_lifetime``, execution timing...). ``size``/``seed`` generate a
    world into the state directory; ``world_dir`` loads an existing one. Without ``state_dir``
    a temporary directory is used and removed afterwards.
    """
    p = _prepare(state_dir, size, seed, port, world_dir, faults, options)
    server = _Server(p.config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [p.sock]}, daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.02)
        yield p.info
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)
        _cleanup(p.state, p.sock, p.info.state_dir if p.temporary else None)


def serve(
    state_dir: Path,
    *,
    size: int | None = None,
    seed: int = 0,
    port: int = 0,
    world_dir: Path | None = None,
    faults: Sequence[Mapping[str, Any]] = (),
    on_ready: Callable[[EmulatorInfo], None] | None = None,
    **options: Any,
) -> None:
    """Run the emulator in the foreground until interrupted (Ctrl+C)."""
    p = _prepare(state_dir, size, seed, port, world_dir, faults, options)
    try:
        if on_ready is not None:
            on_ready(p.info)
        uvicorn.Server(p.config).run(sockets=[p.sock])
    finally:
        _cleanup(p.state, p.sock, None)
