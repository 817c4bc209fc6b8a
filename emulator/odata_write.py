"""OData writes: POST (201 with the full record), PATCH/PUT (204), DELETE (204), ``If-Match``.

The JSON body is checked the way SCM's OData layer checks it (known properties, JSON types),
then handed to the shared write path (:mod:`emulator.writes`) as one row of text. Any business
rule failure is the 500 ``AxODataWriteException`` with Infolog messages; nothing is written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import duckdb
import orjson
import pyarrow as pa
from starlette.responses import Response

from connectors import catalog
from connectors.catalog import Entity
from emulator.odata_path import format_key
from emulator.odata_query import edm_type
from emulator.odata_read import entity_bodies, entity_body, find
from emulator.responses import (
    ODATA_EXCEPTION,
    ServiceError,
    bad_request,
    json_response,
    odata_error,
    segment_not_found,
    write_failed,
)
from emulator.writes import Mode, WriteOutcome, delete_record, write

if TYPE_CHECKING:
    from emulator.state import App, EmulatorState

READ_ONLY = {"DataManagementExecutionJobDetails"}


def parse_body(entity: Entity, raw: bytes) -> dict[str, str | None]:
    """The properties of a JSON body as text, per field (400 for anything SCM would refuse)."""
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object of entity properties.")
    values: dict[str, str | None] = {}
    for name, value in data.items():
        if "@" in name:  # annotations such as @odata.type or @odata.etag
            continue
        try:
            f = entity.field(name)
        except KeyError:
            raise bad_request(
                f"The property '{name}' does not exist on type '{catalog.ENUM_NAMESPACE}."
                f"{entity.public_name}'. Make sure to only use property names that are defined "
                "by the type."
            ) from None
        values[name] = _text(f.type, edm_type(f), value)
    return values


def _text(kind: str, edm: str, value: Any) -> str | None:
    if value is None:
        return None
    if kind in ("int", "decimal"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _cannot_convert(edm)
        return format(Decimal(repr(value)), "f") if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        raise _cannot_convert(edm)
    return value


def _cannot_convert(edm: str) -> ServiceError:
    return bad_request(
        f"Cannot convert a primitive value to the expected type '{edm}'. See the inner exception "
        "for more details.",
        ODATA_EXCEPTION,
    )


def stage_source(
    con: duckdb.DuckDBPyConnection, entity: Entity, bodies: list[dict[str, str | None]]
) -> list[str]:
    """Put bodies into the temp table ``w_src`` (``_row`` = position); returns the fields."""
    given = {name for body in bodies for name in body}
    names = [f.name for f in entity.fields if f.name in given]
    columns = {n: pa.array([b.get(n) for b in bodies], pa.string()) for n in names}
    columns["_row"] = pa.array(range(len(bodies)), pa.int64())
    con.register("w_src_rows", pa.table(columns))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE w_src AS SELECT * FROM w_src_rows")
    finally:
        con.unregister("w_src_rows")
    return names


def _check_writable(entity: Entity) -> None:
    if entity.name in READ_ONLY:
        raise bad_request(f"The entity set '{entity.name}' is read-only.")


def _failed(entity: Entity, outcome: WriteOutcome) -> ServiceError:
    return write_failed(entity.target, [e.infolog() for e in outcome.errors])


def _run(
    con: duckdb.DuckDBPyConnection,
    app: App,
    entity: Entity,
    values: dict[str, str | None],
    mode: Mode,
    target: int | None = None,
) -> WriteOutcome:
    provided = stage_source(con, entity, [values])
    try:
        outcome = write(
            con,
            entity,
            "w_src",
            provided,
            mode=mode,
            company=app.company,
            clm_app=app.is_clm_app,
            target=target,
        )
    finally:
        con.execute("DROP TABLE IF EXISTS w_src")
    if outcome.errors:
        raise _failed(entity, outcome)
    return outcome


def create(state: EmulatorState, app: App, entity: Entity, raw: bytes) -> Response:
    _check_writable(entity)
    values = parse_body(entity, raw)
    with state.store.transaction() as con:
        outcome = _run(con, app, entity, values, "create")
        body = entity_body(state, con, entity, outcome.created[0])
    location = f"{state.odata_root}/{format_key(entity, body)}"
    return json_response(body, 201, {"Location": location, "ETag": body["@odata.etag"]})


class OperationFailed(Exception):
    """Operation ``index`` of a group of creates failed with ``error``."""

    def __init__(self, index: int, error: ServiceError) -> None:
        super().__init__(index)
        self.index = index
        self.error = error


def groupable(entity: Entity) -> bool:
    """Whether consecutive creates of ``entity`` can be written as one set.

    Not when a record may refer to another record of the same entity (a vendor's invoice
    account): one by one, the second create could see the first.
    """
    from emulator.rules import REFS

    return entity.name not in READ_ONLY and all(
        r.target != entity.name for r in REFS.get(entity.name, ())
    )


def create_many(
    state: EmulatorState, app: App, entity: Entity, raws: list[bytes]
) -> list[Response]:
    """Consecutive creates of one changeset, in one set-based write.

    The answers are those of creating the records one by one; the first failing operation
    raises :class:`OperationFailed` (and, as in a changeset, nothing is kept).
    """
    bodies = []
    for index, raw in enumerate(raws):
        try:
            bodies.append(parse_body(entity, raw))
        except ServiceError as exc:
            raise OperationFailed(index, exc) from None
    with state.store.transaction() as con:
        provided = stage_source(con, entity, bodies)
        try:
            outcome = write(
                con,
                entity,
                "w_src",
                provided,
                mode="create",
                company=app.company,
                clm_app=app.is_clm_app,
            )
        finally:
            con.execute("DROP TABLE IF EXISTS w_src")
        if outcome.errors:
            first = min(e.row for e in outcome.errors)
            infolog = [e.infolog() for e in outcome.errors if e.row == first]
            raise OperationFailed(first, write_failed(entity.target, infolog))
        created = entity_bodies(state, con, entity, [outcome.created[i] for i in range(len(raws))])
    return [
        json_response(
            body,
            201,
            {
                "Location": f"{state.odata_root}/{format_key(entity, body)}",
                "ETag": body["@odata.etag"],
            },
        )
        for body in created
    ]


def _locate(
    con: duckdb.DuckDBPyConnection, entity: Entity, keys: dict[str, Any], if_match: str | None
) -> int:
    found = find(con, entity, keys)
    if found is None:
        raise segment_not_found(entity.name)
    recid, etag = found
    if (
        if_match
        and if_match.strip() != "*"
        and etag not in [t.strip() for t in if_match.split(",")]
    ):
        raise odata_error(
            412,
            "The ETag value in the If-Match header does not match the current ETag of the "
            "record: it was changed since it was read.",
        )
    return recid


def update(
    state: EmulatorState,
    app: App,
    entity: Entity,
    keys: dict[str, Any],
    raw: bytes,
    if_match: str | None,
) -> Response:
    _check_writable(entity)
    values = parse_body(entity, raw)
    with state.store.transaction() as con:
        recid = _locate(con, entity, keys, if_match)
        _run(con, app, entity, values, "update", recid)
    return Response(status_code=204, headers={"OData-Version": "4.0"})


def delete(
    state: EmulatorState, app: App, entity: Entity, keys: dict[str, Any], if_match: str | None
) -> Response:
    _check_writable(entity)
    with state.store.transaction() as con:
        recid = _locate(con, entity, keys, if_match)
        errors = delete_record(con, entity, recid, clm_app=app.is_clm_app)
        if errors:
            raise write_failed(entity.target, [e.infolog() for e in errors])
    return Response(status_code=204, headers={"OData-Version": "4.0"})
