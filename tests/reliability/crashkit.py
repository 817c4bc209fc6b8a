"""Killing a run at a chosen moment: ``clmsync run`` in a child process that SIGKILLs itself.

A *moment* is "just before (or just after) the n-th call of a function the run goes through":
a package export, a landing, a model built, an OData ``$batch`` sent, a ledger write... The
child counts those calls (a wrapper around each function, installed in the child only; the
product is not changed) and kills itself with SIGKILL at the moment, so nothing gets to clean
up: no ``finally``, no rollback, no closing of files.

Children are forked from a multiprocessing *forkserver* that imported the product once, so a
crash costs the run up to the moment, not an interpreter start. The same wrappers, counting
without killing, profile a run (how many calls of each function it makes), which is where the
moments are drawn from.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flows.cli
import flows.steps.run  # noqa: F401
from flows.settings import Settings

# name → (module, attribute (Class.method or function), phase of the run)
HOOKS: dict[str, tuple[str, str, str]] = {
    "export": ("connectors.dmf", "PackageApi.export_to_package", "extract"),
    "download": ("connectors.dmf", "PackageApi.download", "extract"),
    "land": ("warehouse.landing", "_Landing.run", "extract"),
    "refresh": ("warehouse.current", "apply_pending", "extract"),
    "model": ("warehouse.runner.build", "materialize", "build"),
    "batch": ("connectors.odata", "ODataClient.batch", "push"),
    "ledger": ("loader.ledger", "record", "push"),
    "feed": ("connectors.clm", "ClmClient.bulk_upsert", "push"),
    "publish": ("warehouse.snapshot", "_copy_schema", "publish"),
}


@dataclass(frozen=True)
class Moment:
    """Just ``when`` ("before" or "after") the ``nth`` call of ``hook``."""

    hook: str
    nth: int
    when: str

    def __str__(self) -> str:
        return f"{self.when} {self.hook} #{self.nth}"


def _target(hook: str) -> tuple[Any, str]:
    module_name, attribute, _ = HOOKS[hook]
    owner: Any = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name


@contextlib.contextmanager
def counting(on_call: Callable[[str, int, str], None] | None = None) -> Iterator[Counter[str]]:
    """Wrap every hook so its calls are counted; ``on_call(hook, n, when)`` runs just before
    and just after the n-th call. The originals are put back on exit."""
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    saved: list[tuple[Any, str, Any]] = []

    def wrap(hook: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with lock:
                counts[hook] += 1
                n = counts[hook]
            if on_call is not None:
                on_call(hook, n, "before")
            result = original(*args, **kwargs)
            if on_call is not None:
                on_call(hook, n, "after")
            return result

        return wrapper

    for hook in HOOKS:
        owner, name = _target(hook)
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        saved.append((owner, name, original))
        setattr(owner, name, wrap(hook, original))
    try:
        yield counts
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def child(config: str, moment: Moment | None, log_path: str, debug: bool) -> None:
    """The child's whole life: output to ``log_path``, hooks installed, ``clmsync run``
    (``clmsync --debug run`` with ``debug``: tracebacks of errors shown)."""
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)

    def strike(hook: str, n: int, when: str) -> None:
        if moment is not None and (hook, n, when) == (moment.hook, moment.nth, moment.when):
            os.kill(os.getpid(), signal.SIGKILL)

    from flows import cli

    code = 0
    with counting(strike):
        root = ["clmsync", "--debug"] if debug else ["clmsync"]
        sys.argv = [*root, "run", "--config", config, "--yes", "--json"]
        try:
            cli.main()
        except SystemExit as stop:
            code = int(stop.code or 0)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


_context: Any = None


def start_run(
    config: Path, moment: Moment | None, log: Path, *, debug: bool = False
) -> multiprocessing.process.BaseProcess:
    """Start ``clmsync run`` in a child forked from the forkserver; the running child."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload([__name__])
    process = _context.Process(target=child, args=(str(config), moment, str(log), debug))
    process.start()
    return process


def finish(process: multiprocessing.process.BaseProcess, *, timeout: float = 300) -> int:
    """Wait for a child of :func:`start_run`; its exit code (-9: killed at its moment)."""
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        raise AssertionError(f"a run did not end within {timeout:.0f} s")
    return int(process.exitcode or 0)


def spawn_run(
    config: Path, moment: Moment | None, log: Path, *, debug: bool = False, timeout: float = 300
) -> int:
    """Run ``clmsync run`` in a forked child; its exit code (-9: killed at the moment)."""
    return finish(start_run(config, moment, log, debug=debug), timeout=timeout)


def write_config(settings: Settings, path: Path) -> Path:
    """``settings`` as a settings file (secrets written out: the child must authenticate)."""
    data = settings.model_dump(mode="python", exclude_none=True)
    lines: list[str] = []
    for section, values in data.items():
        if not isinstance(values, dict):
            lines.insert(0, f"{section} = {_toml(values)}")
            continue
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{key} = {_toml(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value: Any) -> str:
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
