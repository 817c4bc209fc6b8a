"""CLM extract: from the CLM's REST API, or from its export folders.

API: each object type is read from ``updated_since`` = the last cursor (the largest
``updated_at`` landed) minus ``settings.clm.overlap_seconds``, so an object committed late with
an earlier time stamp, or sitting at a page boundary, is still read. What the overlap reads again
is dropped before landing: an object whose (id, updated_at) the warehouse already holds, or that
an earlier page of this run carried (a page served twice), is not landed again. Pages are landed
a few at a time, each landing with its first page's cursor as ``_cursor`` and the new high-water
mark in the same transaction, so a run that stops half-way resumes where it stopped.

Export folders (``settings.clm.export_folder``): each sub-folder is landed once, identified by the
SHA-256 of its ``manifest.json``, oldest first, after :func:`connectors.clm.read_export` has
checked every file's rows and checksum; each file's row count is the completeness check.

Objects become rows of text: fields in catalog order, numbers canonical, ``address`` as JSON
text. An object that breaks its schema (not an object, a required field missing, a nested value
where text belongs) goes to the quarantine with its JSON text.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from connectors import catalog
from connectors.clm import ClmPage, list_exports, read_export
from flows.steps.extract_odata import as_text
from flows.steps.extract_types import EntityResult, ExtractContext
from warehouse import current, landing, relations, state
from warehouse.landing import BadRow

log = logging.getLogger(__name__)

SOURCE: Literal["clm"] = "clm"
GROUP_ROWS = 10_000  # objects per landing (about ten API pages)


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)[:100]


def _problem(obj: catalog.ClmObject, item: object) -> str | None:
    """Why ``item`` breaks the object's schema, or None when it does not."""
    if not isinstance(item, dict):
        return f"not a JSON object but {type(item).__name__}"
    for spec in obj.fields:
        value = item.get(spec.name)
        if value is None:
            if spec.required:
                return f"{spec.name}: required, missing"
        elif spec.type == "object":
            if not isinstance(value, dict):
                return f"{spec.name}: expected an object, found {_shown(value)}"
        elif isinstance(value, dict | list):
            return f"{spec.name}: expected a {spec.type} value, found {_shown(value)}"
        elif isinstance(value, str) and "\x00" in value:
            return f"{spec.name}: a NUL character in the text"
    return None


class RowBuilder:
    """Collects objects (or the reasons they are refused) and hands out Arrow batches."""

    def __init__(self, obj: catalog.ClmObject) -> None:
        self.obj = obj
        self.bad: list[BadRow] = []
        self.unknown: set[str] = set()
        self._names = frozenset(obj.field_names)
        self._specs = [(f.name, f.required, f.type == "object") for f in obj.fields]
        self._reset()

    def _reset(self) -> None:
        self.rows: list[list[str | None]] = []
        self.numbers: list[int] = []

    def __len__(self) -> int:
        return len(self.numbers)

    def add(self, number: int, item: object, raw: str | None = None) -> None:
        # Millions of objects pass here: one pass that converts and checks together, and
        # _problem (slower, the same rules) only to word the reason of a refusal.
        row = self._row(item) if isinstance(item, dict) else None
        if row is None:
            problem = _problem(self.obj, item) or "not convertible"
            text = raw if raw is not None else json.dumps(item, ensure_ascii=False)
            self.bad.append(BadRow(number, problem, text))
            return
        assert isinstance(item, dict)
        if not self._names.issuperset(item):
            self.unknown |= item.keys() - self._names
        self.rows.append(row)
        self.numbers.append(number)

    def _row(self, item: dict[str, Any]) -> list[str | None] | None:
        """The object's fields as landing text, or None when it breaks the schema."""
        row: list[str | None] = []
        for name, required, is_object in self._specs:
            value = item.get(name)
            if value is None:
                if required:
                    return None
                row.append(None)
            elif is_object:
                if not isinstance(value, dict):
                    return None
                row.append(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
            elif isinstance(value, str):
                if "\x00" in value:  # JSON may carry \u0000; no text field holds it
                    return None
                row.append(value)
            elif isinstance(value, dict | list):
                return None
            else:
                row.append(as_text(value))
        return row

    def refuse(self, number: int, reason: str, raw: str) -> None:
        self.bad.append(BadRow(number, reason, raw))

    def batch(self) -> pa.RecordBatch:
        """The rows collected since the last batch."""
        columns = list(zip(*self.rows, strict=True)) or [() for _ in self._specs]
        arrays = [pa.array(column, pa.string()) for column in columns]
        arrays.append(pa.array(self.numbers, pa.int64()))
        names = [*self.obj.field_names, landing.ROW_NUMBER]
        self._reset()
        return pa.RecordBatch.from_arrays(arrays, names=names)


def parse_time(text: object) -> datetime | None:
    """An ISO 8601 time stamp as an aware UTC datetime (None when it is not one)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- API -----------------------------------------------------------------------------------


class _Dedupe:
    """Drops objects already landed: those an earlier page of this run carried (a page served
    again) and, inside the overlap window, those the warehouse holds with the same version."""

    def __init__(
        self, cur: duckdb.DuckDBPyConnection, obj: catalog.ClmObject, high: datetime | None
    ):
        self.cur = cur
        self.table = relations.clm(obj)
        self.high = high  # the previous run's high-water mark
        self.recent: list[set[tuple[str, str]]] = [set(), set()]
        self.dropped = 0

    def keep(self, items: Sequence[Any]) -> list[Any]:
        pairs = [
            (str(i.get("id")), str(i.get("updated_at"))) if isinstance(i, dict) else None
            for i in items
        ]
        seen = self.recent[0] | self.recent[1]
        window = [
            p[0]
            for p, i in zip(pairs, items, strict=True)
            if p is not None and self.high is not None
            and (when := parse_time(i.get("updated_at"))) is not None and when <= self.high
        ]  # fmt: skip
        if window:
            seen |= self._held(window)
        kept = [i for p, i in zip(pairs, items, strict=True) if p is None or p not in seen]
        self.dropped += len(items) - len(kept)
        self.recent = [self.recent[1], {p for p in pairs if p is not None}]
        return kept

    def _held(self, ids: list[str]) -> set[tuple[str, str]]:
        rows = self.cur.execute(
            f"SELECT id, updated_at FROM {self.table.current} WHERE id IN (SELECT unnest(?))",
            [ids],
        ).fetchall()
        return {(str(a), str(b)) for a, b in rows}


def extract_clm_api(ctx: ExtractContext, obj: catalog.ClmObject) -> list[EntityResult]:
    """Read one object type from the API since the last cursor (minus the overlap) and land it."""
    assert ctx.clients.clm is not None
    result = EntityResult(SOURCE, obj.name, None, "clm_api", status="unchanged")
    begin = time.perf_counter()
    with ctx.cursor() as cur:
        try:
            with state.step(cur, ctx.run_id, "clm_extract", entity=obj.name) as step:
                current.refresh_current(cur, relations.clm(obj), run_id=ctx.run_id)
                st = state.get_extract_state(cur, SOURCE, obj.name, None)
                high = None if obj.name in ctx.full or st is None else parse_time(st.cursor)
                since = None
                if high is not None:
                    since = iso(high - timedelta(seconds=ctx.settings.clm.overlap_seconds))
                pages = ctx.clients.clm.pages(
                    obj.collection, updated_since=since, limit=ctx.settings.clm.page_size
                )
                dedupe = _Dedupe(cur, obj, high)
                _land_pages(ctx, cur, obj, pages, dedupe, since, result)
                step.rows = result.landed
                step.detail.update(
                    updated_since=since, extracted=result.extracted, duplicates=dedupe.dropped,
                    quarantined=result.quarantined,
                )  # fmt: skip
        except Exception as exc:
            result.fail(exc)
    result.seconds = time.perf_counter() - begin
    return [result]


def _land_pages(
    ctx: ExtractContext,
    cur: duckdb.DuckDBPyConnection,
    obj: catalog.ClmObject,
    pages: Iterable[ClmPage],
    dedupe: _Dedupe,
    since: str | None,
    result: EntityResult,
) -> None:
    builder = RowBuilder(obj)
    top: tuple[datetime, str] | None = None
    group_cursor: str | None = None
    groups = 0

    def flush() -> None:
        nonlocal groups, group_cursor
        if not len(builder) and not builder.bad:
            return
        groups += 1
        landed = landing.land_clm(
            cur, obj, [builder.batch()], run_id=ctx.run_id,
            cursor=group_cursor or f"updated_since={since or ''}",
            source_file=f"clm-api:{obj.collection}:{ctx.run_id}:{groups}",
            bad_rows=list(builder.bad),
            watermark=state.Watermark(cursor=top[1]) if top else None,
        )  # fmt: skip
        builder.bad.clear()
        result.landed += landed.landed
        result.quarantined += landed.quarantined
        result.batch_id = group_cursor
        result.status = "succeeded"
        group_cursor = None

    for page in pages:
        result.extracted += len(page.items)
        for item in page.items:
            when = parse_time(item.get("updated_at")) if isinstance(item, dict) else None
            if when is not None and (top is None or when > top[0]):
                top = (when, str(item["updated_at"]))
        kept = dedupe.keep(page.items)
        if kept and group_cursor is None:
            group_cursor = page.cursor or f"updated_since={since or ''}"
        for item in kept:
            builder.add(len(builder) + len(builder.bad) + 1, item)
        if len(builder) + len(builder.bad) >= GROUP_ROWS:
            flush()
    flush()
    if builder.unknown:
        log.warning("CLM %s: fields not in the catalog were not landed: %s", obj.collection,
                    sorted(builder.unknown))  # fmt: skip


# --- export folders ------------------------------------------------------------------------


def _lines(builder: RowBuilder, path: Path, chunk: int = 50_000) -> Iterator[pa.RecordBatch]:
    """A JSON Lines file as batches; every line is a row (a line that is not a JSON object is
    refused with its text)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            raw = line.rstrip(b"\r\n")
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]  # written by Windows tools; not part of a row
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                builder.refuse(number, "not UTF-8 text", raw.decode("utf-8", "replace"))
                continue
            try:
                item = json.loads(text)
            except ValueError:
                builder.refuse(number, "not valid JSON", text)
                continue
            builder.add(number, item, text)
            if len(builder) >= chunk:
                yield builder.batch()
    if len(builder):
        yield builder.batch()


def export_checksum(folder: Path) -> str:
    return hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()


def extract_clm_exports(
    ctx: ExtractContext, objects: Sequence[catalog.ClmObject]
) -> list[EntityResult]:
    """Land every export folder not landed yet, oldest first."""
    root = ctx.clients.clm_export_folder
    assert root is not None
    results = {
        o.name: EntityResult(SOURCE, o.name, None, "clm_export", "unchanged") for o in objects
    }
    with ctx.cursor() as cur:
        for folder in list_exports(root):
            batch_id = f"clm-export:{export_checksum(folder)}"
            done = {
                str(r[0])
                for r in cur.execute(
                    "SELECT DISTINCT entity FROM ops.landed_files WHERE source = 'clm' "
                    "AND batch_id = ?",
                    [batch_id],
                ).fetchall()
            }
            todo = [o for o in objects if o.name not in done]
            if not todo:
                continue
            try:
                _land_export(ctx, cur, folder, batch_id, todo, results)
            except Exception as exc:
                for obj in todo:
                    if not results[obj.name].failed:
                        results[obj.name].fail(exc)
                break  # a later export must not land before this one
    return list(results.values())


def _land_export(
    ctx: ExtractContext,
    cur: duckdb.DuckDBPyConnection,
    folder: Path,
    batch_id: str,
    objects: Sequence[catalog.ClmObject],
    results: dict[str, EntityResult],
) -> None:
    with state.step(cur, ctx.run_id, "clm_export", entity=folder.name) as step:
        export = read_export(folder)
        for obj in objects:
            found = export.file(obj.collection)
            if found is None:
                continue
            result = results[obj.name]
            begin = time.perf_counter()
            builder = RowBuilder(obj)
            try:
                landed = landing.land_clm(
                    cur, obj, _lines(builder, found.path), run_id=ctx.run_id, cursor=batch_id,
                    source_file=f"{export.export_id}/{found.path.name}", bad_rows=builder.bad,
                    expected_rows=found.rows, watermark=state.Watermark(cursor=export.export_id),
                )  # fmt: skip
            except Exception as exc:
                result.fail(exc)
                raise
            result.extracted += landed.rows_in
            result.landed += landed.landed
            result.quarantined += landed.quarantined
            result.expected = (result.expected or 0) + found.rows
            result.batch_id = batch_id
            result.seconds += time.perf_counter() - begin
            result.status = "succeeded" if not landed.skipped else result.status
        step.detail.update(export_id=export.export_id, checksum=batch_id)
