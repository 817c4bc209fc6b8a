"""The model project: SQL files under ``models/``, their header, their references, their docs.

A model is one ``select`` (a ``with ... select`` or a set operation too) in
``models/<layer>/.../<name>.sql``. Its relation is ``<layer>.<name>``: the first folder is the
DuckDB schema it is built in, deeper folders only organise files. Names are unique across the
project, so a model can be selected by its name alone.

A model may start with header comments that set how it is built::

    -- clmsync: materialized=incremental unique_key=legal_entity,record_key

``materialized`` is ``view`` (the default in ``staging``), ``table`` (the default elsewhere) or
``incremental`` (merged into the existing table on ``unique_key``: matching rows are updated,
new rows inserted, rows the select no longer returns are kept). An incremental model may read its
own table (e.g. to keep ``first_seen_at``); for its first build the runner then creates the table
empty from the ``data_type`` of each column declared in the folder's YAML. ``strategy=
delete_insert`` replaces the keys the select returns instead (see ``replace``); such a model
may read ``changes.<name>``, the rows the last build of another incremental model replaced, to
redo only what they touch.

Dependencies are every table the SQL reads, found by parsing it with sqlglot (DuckDB dialect);
CTE names are not tables. References must be qualified (``staging.stg_scm__vendors``) so every
model also runs as it is in the DuckDB CLI.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import traverse_scope

from connectors.errors import ModelError
from warehouse.runner.properties import ColumnDoc, ModelDoc, TestSpec, load_folder

LAYER_ORDER = ("staging", "intermediate", "marts", "reports", "deltas")
# Where the runner keeps, for each incremental model another model reads that way, the rows
# its last build replaced: ``changes.<model name>`` (see ``replace``).
CHANGES_SCHEMA = "changes"
RESERVED_SCHEMAS = frozenset(
    {"raw_scm", "raw_clm", "current_scm", "current_clm", "ops", "seeds", "main", CHANGES_SCHEMA}
)
MATERIALIZATIONS = ("view", "table", "incremental")
STRATEGIES = ("merge", "delete_insert")
_HEADER = re.compile(r"^\s*--\s*clmsync:(.*)$", re.IGNORECASE)
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Model:
    """One model file, parsed."""

    name: str
    layer: str
    path: Path
    file: str  # path relative to the project root, for messages: models/staging/x.sql
    folder: str  # folder relative to models/: staging/scm
    sql: str
    materialized: str
    unique_key: tuple[str, ...]
    refs: frozenset[str]  # lowercase schema.name of every table the SQL reads
    strategy: str = "merge"  # of an incremental model: merge | delete_insert
    description: str | None = None
    columns: tuple[ColumnDoc, ...] = ()
    tests: tuple[TestSpec, ...] = field(default=())
    doc_file: str | None = None

    @property
    def relation(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def reads_itself(self) -> bool:
        return self.relation in self.refs


@dataclass(frozen=True)
class Project:
    root: Path  # the folder holding models/ (messages name files relative to it)
    models_dir: Path
    seeds_dir: Path | None
    models: tuple[Model, ...]

    def model(self, name: str) -> Model:
        for m in self.models:
            if m.name == name or m.relation == name:
                return m
        raise ModelError(f"no model named {name!r}")

    @property
    def seed_files(self) -> tuple[Path, ...]:
        if self.seeds_dir is None or not self.seeds_dir.is_dir():
            return ()
        return tuple(sorted(self.seeds_dir.glob("*.csv")))

    @property
    def seed_relations(self) -> frozenset[str]:
        names = {f"seeds.{p.stem.lower()}" for p in self.seed_files}
        return frozenset(names | {"seeds.mismatch_kinds"})


def load_project(models_dir: Path, seeds_dir: Path | None = None) -> Project:
    """Read every model and properties file under ``models_dir``."""
    if not models_dir.is_dir():
        raise ModelError(f"models folder {models_dir} does not exist", files=[str(models_dir)])
    root = models_dir.parent
    models: list[Model] = []
    by_folder: dict[Path, list[Path]] = {}
    for path in sorted(models_dir.rglob("*")):
        if path.is_file() and path.name.startswith("_") and path.suffix in (".yml", ".yaml"):
            by_folder.setdefault(path.parent, []).append(path)
    docs: dict[Path, dict[str, ModelDoc]] = {
        folder: load_folder(files, models_dir) for folder, files in by_folder.items()
    }
    seen: dict[str, str] = {}
    for path in sorted(models_dir.rglob("*.sql")):
        model = parse_model(path, models_dir)
        if model.name in seen:
            raise ModelError(
                f"two models are named {model.name}: {seen[model.name]} and {model.file}",
                files=[seen[model.name], model.file],
            )
        seen[model.name] = model.file
        doc = docs.get(path.parent, {}).pop(model.name, None)
        if doc is not None:
            model = _with_doc(model, doc)
        models.append(model)
    for folder_docs in docs.values():
        for doc in folder_docs.values():
            raise ModelError(
                f"{doc.source}: describes model {doc.name}, but there is no {doc.name}.sql "
                "in that folder",
                files=[doc.source],
            )
    return Project(root=root, models_dir=models_dir, seeds_dir=seeds_dir, models=tuple(models))


def _with_doc(model: Model, doc: ModelDoc) -> Model:
    if model.materialized == "incremental" and model.reads_itself:
        undeclared = [c.name for c in doc.columns if not c.data_type]
        if undeclared or not doc.columns:
            raise ModelError(
                f"{model.file} reads its own table, so {doc.source} must declare every column "
                f"with a data_type for its first build (missing: {undeclared or 'all'})",
                files=[model.file, doc.source],
            )
    return replace(
        model,
        description=doc.description,
        columns=doc.columns,
        tests=doc.tests,
        doc_file=doc.source,
    )


def parse_model(path: Path, models_dir: Path) -> Model:
    """Parse one model file: header, SQL, references."""
    rel = path.relative_to(models_dir)
    file = path.relative_to(models_dir.parent).as_posix()
    if len(rel.parts) < 2:
        raise ModelError(
            f"{file}: a model lives in a layer folder (models/<layer>/...)", files=[file]
        )
    layer = rel.parts[0].lower()
    name = path.stem
    for what, value in (("layer", layer), ("model name", name)):
        if not _IDENT.match(value):
            raise ModelError(
                f"{file}: {what} {value!r} must be lowercase letters, digits and _", files=[file]
            )
    if layer in RESERVED_SCHEMAS:
        raise ModelError(f"{file}: {layer} is a reserved schema, not a layer", files=[file])
    sql = path.read_text(encoding="utf-8")
    options = _header(sql, file)
    materialized = options.pop("materialized", "view" if layer == "staging" else "table")
    if materialized not in MATERIALIZATIONS:
        raise ModelError(
            f"{file}: materialized={materialized} (expected one of {MATERIALIZATIONS})",
            files=[file],
        )
    unique_key = tuple(k.strip() for k in options.pop("unique_key", "").split(",") if k.strip())
    strategy = options.pop("strategy", "merge")
    if strategy not in STRATEGIES or (strategy != "merge" and materialized != "incremental"):
        raise ModelError(
            f"{file}: strategy={strategy} (an incremental model's strategy is one of {STRATEGIES})",
            files=[file],
        )
    if options:
        raise ModelError(f"{file}: unknown header settings {sorted(options)}", files=[file])
    if materialized == "incremental" and not unique_key:
        raise ModelError(f"{file}: an incremental model needs unique_key=...", files=[file])
    refs = references(sql, file)
    relation = f"{layer}.{name}"
    if relation in refs and materialized != "incremental":
        raise ModelError(
            f"{file}: reads its own relation {relation} (only incremental models may)",
            files=[file],
        )
    return Model(
        name=name,
        layer=layer,
        path=path,
        file=file,
        folder=rel.parent.as_posix(),
        sql=sql,
        materialized=materialized,
        unique_key=unique_key,
        refs=refs,
        strategy=strategy,
    )


def _header(sql: str, file: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break  # the header ends at the first line of SQL
        match = _HEADER.match(stripped)
        if not match:
            continue
        for token in match.group(1).split():
            key, sep, value = token.partition("=")
            if not sep or not value:
                raise ModelError(f"{file}: header setting {token!r} is not key=value", files=[file])
            options[key.strip().lower()] = value.strip()
    return options


def references(sql: str, file: str) -> frozenset[str]:
    """Lowercase ``schema.name`` of every table ``sql`` reads (CTEs and table functions
    excluded). Unqualified names come back as ``main.<name>``."""
    try:
        return _references(sql)
    except _NotOneSelect as exc:
        raise ModelError(f"{file}: {exc}", files=[file]) from None


class _NotOneSelect(Exception):
    pass


@functools.lru_cache(maxsize=1024)
def _references(sql: str) -> frozenset[str]:
    """:func:`references` of one SQL text, kept for the life of the process: parsing is most
    of what loading the project costs (~0.8 s for the project's models), and a process that
    runs the pipeline again (a served deployment, the tests) reads the same files again."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError as exc:
        raise _NotOneSelect(f"SQL does not parse: {exc}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise _NotOneSelect("a model is exactly one select statement")
    return frozenset(_table_name(t) for t in _tables(statements[0]))


def _tables(tree: exp.Query) -> Iterable[exp.Table]:
    try:
        for scope in traverse_scope(tree):
            for source in scope.sources.values():
                if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
                    yield source
    except SqlglotError:
        # Scope analysis gives up on some exotic SQL; then any table not named like a CTE.
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if not isinstance(table.this, exp.Identifier):
                continue
            if not table.db and table.name.lower() in ctes:
                continue
            yield table


def _table_name(table: exp.Table) -> str:
    schema = table.db or "main"
    return f"{schema}.{table.name}".lower()


def layer_rank(layer: str) -> int:
    return LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)
