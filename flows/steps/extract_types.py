"""What the extract steps share: the run's context, its units of work and their results.

A run is cut into *units* that can run at the same time: one SCM export project (a legal
entity), one OData reference set in one legal entity, one CLM object (or the CLM export folders).
Each unit works on its own DuckDB cursor of the run's one connection and returns one
:class:`EntityResult` per entity and legal entity it touched, failures included: a unit never
raises for a failure of its own, so the others go on and the report says what failed and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import duckdb

from connectors.errors import ClmSyncError, is_transient
from flows.clients import Clients
from flows.settings import Settings

log = logging.getLogger(__name__)

Status = Literal["succeeded", "unchanged", "failed", "blocked"]
Via = Literal["package", "odata", "clm_api", "clm_export", "package_file"]


@dataclass
class EntityResult:
    """One entity in one legal entity (None: shared or CLM) from one source batch.

    ``extracted``: rows read from the source (rows in); ``landed`` + ``quarantined`` =
    ``extracted``; ``expected``: the count the source stated (package job details, OData
    ``$count``, CLM manifest), when it states one. ``status``: ``unchanged`` means there was
    nothing new (the batch was landed before, or the set did not change); ``blocked`` means the
    unit did not run this entity because of an earlier failure it must not overtake.
    """

    source: Literal["scm", "clm"]
    entity: str
    legal_entity: str | None
    via: Via
    status: Status = "succeeded"
    batch_id: str | None = None
    extracted: int = 0
    landed: int = 0
    quarantined: int = 0
    expected: int | None = None
    seconds: float = 0.0
    whole_set: bool = False  # the landing holds every key: apply it as a key snapshot
    first: bool = False  # the first landing of it here: nothing older to compare with
    load_id: int | None = None
    package: Path | None = None
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "blocked")

    def fail(self, exc: BaseException) -> EntityResult:
        self.status = "failed"
        self.error = f"{type(exc).__name__}: {exc}"
        self.exception = exc
        return self


@dataclass(frozen=True)
class SnapshotInfo:
    """A key snapshot of one entity in one legal entity: keys seen, tombstones made, revived."""

    entity: str
    legal_entity: str | None
    method: Literal["odata", "landing", "count"]
    keys: int = 0
    tombstoned: int = 0
    revived: int = 0
    error: str | None = None


@dataclass
class ExtractReport:
    """Everything one extract did; ``ok`` is False when any entity failed."""

    run_id: str
    results: list[EntityResult] = field(default_factory=list)
    snapshots: list[SnapshotInfo] = field(default_factory=list)
    refreshed: dict[str, int] = field(default_factory=dict)  # relation → keys applied
    project_changes: list[str] = field(default_factory=list)
    packages: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[EntityResult]:
        return [r for r in self.results if r.failed]

    @property
    def ok(self) -> bool:
        return not self.failures and not any(s.error for s in self.snapshots)

    def total(self, what: Literal["extracted", "landed", "quarantined"]) -> int:
        return sum(getattr(r, what) for r in self.results)

    def find(self, entity: str, legal_entity: str | None = None) -> list[EntityResult]:
        """Results of ``entity`` (SCM set or CLM object name) in ``legal_entity``."""
        le = legal_entity.lower() if legal_entity else None
        return [r for r in self.results if r.entity == entity and r.legal_entity == le]

    def raise_for_failures(self) -> None:
        """Raise the first failure's error (a :class:`CompletenessError`, a package failure…),
        so a caller that must not go on with partial data stops."""
        for result in self.failures:
            if result.exception is not None:
                raise result.exception
        for snap in self.snapshots:
            if snap.error:
                raise ClmSyncError(f"key snapshot of {snap.entity} failed: {snap.error}")

    def rows(self) -> list[dict[str, object]]:
        """The per-entity table (for the CLI, artifacts and logs)."""
        return [
            {
                "source": r.source,
                "entity": r.entity,
                "legal_entity": r.legal_entity or "",
                "via": r.via,
                "status": r.status,
                "extracted": r.extracted,
                "landed": r.landed,
                "quarantined": r.quarantined,
                "expected": r.expected,
                "seconds": round(r.seconds, 3),
                "error": r.error or "",
            }
            for r in self.results
        ]


@dataclass
class ExtractContext:
    """The run's shared objects. ``con`` is the run's one connection (its owner thread keeps
    it); every unit works on a cursor of it. ``full``: names (SCM sets, CLM objects) to
    extract in full. ``added_entities``: (project, label) created by this run's bootstrap."""

    settings: Settings
    clients: Clients
    con: duckdb.DuckDBPyConnection
    run_id: str
    full: frozenset[str] = frozenset()
    added_entities: frozenset[tuple[str, str]] = frozenset()
    keep_packages: bool = False

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self.con.cursor()
        try:
            yield cur
        finally:
            cur.close()


@dataclass(frozen=True)
class Scope:
    """What a unit covers, to name its results when it fails as a whole."""

    source: Literal["scm", "clm"]
    entity: str
    legal_entity: str | None
    via: Via


@dataclass(frozen=True)
class Unit:
    """One piece of an extract that may run beside the others."""

    name: str
    scope: tuple[Scope, ...]
    run: Callable[[], list[EntityResult]]

    def __call__(self) -> list[EntityResult]:
        try:
            return self.run()
        except Exception as exc:  # a unit's own failure must not stop the others
            log.exception("extract unit %s failed", self.name)
            return [
                EntityResult(s.source, s.entity, s.legal_entity, s.via).fail(exc)
                for s in self.scope
            ]


T = TypeVar("T")
R = TypeVar("R")


def parallel_map(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``fn`` over ``items`` on up to ``workers`` threads; results in the items' order."""
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(
        max_workers=min(workers, len(items)), thread_name_prefix="extract"
    ) as pool:
        return list(pool.map(fn, items))


def run_units(
    units: Sequence[Callable[[], list[EntityResult]]], workers: int
) -> list[EntityResult]:
    """Run ``units`` on up to ``workers`` threads; their results in the units' order."""
    return [r for results in parallel_map(lambda unit: unit(), units, workers) for r in results]


def first_transient(results: Sequence[EntityResult]) -> BaseException | None:
    """The first failure that trying again may fix (what orchestration retries on)."""
    for result in results:
        if result.exception is not None and is_transient(result.exception):
            return result.exception
    return None
