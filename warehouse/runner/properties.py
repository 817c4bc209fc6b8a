"""Per-folder YAML properties: descriptions and tests of the models in one folder.

Each folder of ``models/`` may hold YAML files whose names start with an underscore (by
convention ``_<folder>.yml``, e.g. ``models/staging/scm/_scm.yml``). They describe only models of
that folder::

    models:
      - name: stg_scm__vendors
        description: One row per vendor and legal entity.
        tests:                                  # model-level tests
          - unique: [legal_entity, vendor_account]
          - sql: select * from staging.stg_scm__vendors where credit_limit < 0
            name: credit_limit_not_negative
            severity: warn
        columns:
          - name: vendor_account
            description: SCM vendor account (VendorAccountNumber).
            data_type: VARCHAR                  # optional; see incremental models
            tests:
              - not_null
              - unique: {severity: warn}
              - accepted_values: {values: [Organization, Person]}
              - relationships: {to: staging.stg_scm__legal_entities, field: legal_entity}

A test is a name (``not_null``) or a mapping with one kind key; ``severity`` (``error``, the
default, or ``warn``) and ``name`` may sit beside the kind key or inside its arguments. Unknown
keys are errors, so a typo never turns a test off silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

try:  # libyaml's safe loader (PyYAML's wheels have it): the same documents, 0.10 s -> 0.01 s
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

from connectors.errors import ModelError

Severity = Literal["error", "warn"]
COLUMN_KINDS = ("unique", "not_null", "accepted_values", "relationships")
MODEL_KINDS = ("unique", "sql")
_MODEL_KEYS = {"name", "description", "columns", "tests"}
_COLUMN_KEYS = {"name", "description", "data_type", "tests"}


@dataclass(frozen=True)
class TestSpec:
    """One declared test. ``columns`` is the column (column tests) or the combination
    (model-level ``unique``); ``args`` holds the kind's arguments."""

    __test__ = False  # not a pytest test class

    kind: str
    model: str
    columns: tuple[str, ...]
    args: Mapping[str, Any]
    severity: Severity
    name: str
    source: str  # the YAML file, for messages


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    description: str | None = None
    data_type: str | None = None


@dataclass(frozen=True)
class ModelDoc:
    """What a properties file says about one model."""

    name: str
    source: str
    description: str | None = None
    columns: tuple[ColumnDoc, ...] = ()
    tests: tuple[TestSpec, ...] = field(default=())


def load_folder(files: list[Path], root: Path) -> dict[str, ModelDoc]:
    """Model name → its properties, from the properties files of one folder."""
    docs: dict[str, ModelDoc] = {}
    for path in sorted(files):
        source = path.relative_to(root.parent).as_posix()
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader) or {}
        except yaml.YAMLError as exc:
            raise ModelError(f"{source}: not valid YAML: {exc}", files=[source]) from None
        if not isinstance(data, dict) or not isinstance(data.get("models", []), list):
            raise ModelError(f"{source}: expected a mapping with a 'models' list", files=[source])
        unknown = set(data) - {"version", "models"}
        if unknown:
            raise ModelError(f"{source}: unknown top-level keys {sorted(unknown)}", files=[source])
        for entry in data.get("models", []):
            doc = _model(entry, source)
            if doc.name in docs:
                raise ModelError(
                    f"{source}: model {doc.name} is described twice in this folder",
                    files=[source, docs[doc.name].source],
                )
            docs[doc.name] = doc
    return docs


def _fail(source: str, message: str) -> ModelError:
    return ModelError(f"{source}: {message}", files=[source])


def _model(entry: Any, source: str) -> ModelDoc:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise _fail(source, f"each model entry needs a name: {entry!r}")
    name = entry["name"]
    unknown = set(entry) - _MODEL_KEYS
    if unknown:
        raise _fail(source, f"model {name}: unknown keys {sorted(unknown)}")
    columns: list[ColumnDoc] = []
    tests: list[TestSpec] = []
    for col in entry.get("columns") or []:
        if not isinstance(col, dict) or not isinstance(col.get("name"), str):
            raise _fail(source, f"model {name}: each column needs a name: {col!r}")
        bad = set(col) - _COLUMN_KEYS
        if bad:
            raise _fail(source, f"model {name}, column {col['name']}: unknown keys {sorted(bad)}")
        columns.append(ColumnDoc(col["name"], _text(col.get("description")), col.get("data_type")))
        for raw in col.get("tests") or []:
            tests.append(_test(raw, name, (col["name"],), COLUMN_KINDS, source))
    for raw in entry.get("tests") or []:
        tests.append(_test(raw, name, (), MODEL_KINDS, source))
    return ModelDoc(name, source, _text(entry.get("description")), tuple(columns), tuple(tests))


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip()


def _test(
    raw: Any, model: str, columns: tuple[str, ...], kinds: tuple[str, ...], source: str
) -> TestSpec:
    where = f"model {model}" + (f", column {columns[0]}" if columns else "")
    if isinstance(raw, str):
        raw = {raw: None}
    if not isinstance(raw, dict):
        raise _fail(source, f"{where}: a test is a name or a mapping, not {raw!r}")
    kind_keys = [k for k in raw if k not in ("severity", "name")]
    if len(kind_keys) != 1 or kind_keys[0] not in kinds:
        raise _fail(source, f"{where}: unknown test {kind_keys}; known here: {list(kinds)}")
    kind = kind_keys[0]
    value = raw[kind]
    args: dict[str, Any] = dict(value) if isinstance(value, dict) else {}
    severity = raw.get("severity", args.pop("severity", "error"))
    name = raw.get("name", args.pop("name", None))
    if severity not in ("error", "warn"):
        raise _fail(source, f"{where}: severity must be error or warn, not {severity!r}")
    if kind == "accepted_values":
        values = args.get("values", value if isinstance(value, list) else None)
        if not isinstance(values, list) or not values:
            raise _fail(source, f"{where}: accepted_values needs a non-empty 'values' list")
        args = {"values": [str(v) for v in values]}
    elif kind == "relationships":
        if not isinstance(args.get("to"), str) or not isinstance(args.get("field"), str):
            raise _fail(source, f"{where}: relationships needs 'to' (a relation) and 'field'")
    elif kind == "sql":
        sql = value if isinstance(value, str) else args.get("query")
        if not isinstance(sql, str) or not sql.strip():
            raise _fail(source, f"{where}: sql needs a query returning the failing rows")
        args = {"query": sql.strip().rstrip(";")}
    elif kind == "unique" and not columns:
        cols = value if isinstance(value, list) else args.get("columns")
        if not isinstance(cols, list) or not cols:
            raise _fail(source, f"{where}: a model-level unique test needs a list of columns")
        columns = tuple(str(c) for c in cols)
        args = {}
    unexpected = set(args) - {"values", "to", "field", "query"}
    if unexpected:
        raise _fail(source, f"{where}: unknown arguments {sorted(unexpected)} for {kind}")
    default = "__".join([kind, model, *columns]) if kind != "sql" else f"sql__{model}"
    return TestSpec(kind, model, columns, args, severity, str(name or default), source)
