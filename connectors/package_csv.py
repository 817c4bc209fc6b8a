"""A package's CSV data file as a stream of Arrow record batches, never as Python rows.

A background thread inflates the zip member and transcodes it (UTF-16 → UTF-8) in large chunks
while pyarrow's streaming CSV reader parses the previous ones, so the two cores share the work.
Every value stays a string (landing keeps data as sent). Each row carries ``_row_number``, its
1-based data row number in the file. Rows that do not parse (wrong number of columns, bytes that
are not text in the file's encoding) never reach the batches: they go to the caller's error
channel with their row number, the reason and their text, so good + bad rows = data rows.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.errors import PackageFormatError

log = logging.getLogger(__name__)

ROW_NUMBER = "_row_number"
CHUNK = 4 << 20
MAX_BLOCK = 256 << 20  # the largest row a data file may hold
REPLACEMENT = "\ufffd"


class ByteSource(Protocol):
    """Where the data file's bytes come from (a zip member stream)."""

    def read(self, size: int = -1, /) -> bytes | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RowError:
    """A data row that could not be read: where, why, and its text as found."""

    entity: str
    file: str
    row_number: int
    reason: str
    raw_text: str


class _Transcoder:
    """Reads the member in a thread and hands out UTF-8 bytes (a file-like ``read``)."""

    def __init__(self, open_raw: Callable[[], ByteSource], encoding: str, chunk: int) -> None:
        self._raw = open_raw()
        self._encoding = encoding
        self._chunk_size = chunk
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self._chunk = b""
        self._pos = 0
        self._eof = False
        self.decode_errors = 0
        self.nul_chunks = 0  # chunks holding a NUL character (never text in a CSV file)
        self.error: BaseException | None = None
        self.closed = False
        # Inflating (zlib lets go of the GIL) and transcoding run in threads of their own, so
        # they overlap each other and the parser.
        self._raw_queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=4)
        for target, name in ((self._inflate, "package-inflate"), (self._produce, "package-csv")):
            threading.Thread(target=target, name=name, daemon=True).start()

    def _decoder(self, head: bytes) -> tuple[codecs.IncrementalDecoder, int]:
        boms = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"))
        for bom, name in (*boms, (codecs.BOM_UTF16_BE, "utf-16-be")):
            if head.startswith(bom):
                return codecs.getincrementaldecoder(name)("strict"), len(bom)
        name = self._encoding
        if name.replace("-", "").lower() == "utf16":
            # CSV-Unicode without a BOM: little-endian if it looks like it, else plain UTF-8.
            name = "utf-16-le" if head[1:2] == b"\x00" else "utf-8"
        return codecs.getincrementaldecoder(name)("strict"), 0

    def _put(
        self, item: bytes | BaseException | None, into: queue.Queue[bytes | BaseException | None]
    ) -> bool:
        while not self._stop.is_set():
            try:
                into.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _inflate(self) -> None:
        try:
            while True:
                block = self._raw.read(self._chunk_size)
                if not self._put(block, self._raw_queue) or not block:
                    return
        except BaseException as exc:  # handed on, then raised in the consumer's thread
            self._put(exc, self._raw_queue)
        finally:
            with contextlib.suppress(Exception):
                self._raw.close()

    def _next_raw(self) -> bytes:
        while not self._stop.is_set():
            try:
                item = self._raw_queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            return item or b""
        return b""

    def _produce(self) -> None:
        try:
            raw = self._next_raw()
            decoder, skip = self._decoder(raw[:4])
            raw = raw[skip:]
            while True:
                final = not raw
                try:
                    text = decoder.decode(raw, final)
                except UnicodeDecodeError:
                    # Keep going with U+FFFD in place of the bad bytes; the rows holding them are
                    # routed to the error channel by the consumer.
                    self.decode_errors += 1
                    decoder.errors = "replace"
                    text = decoder.decode(raw, final)
                    decoder.errors = "strict"
                if "\x00" in text:
                    self.nul_chunks += 1
                if text and not self._put(text.encode("utf-8"), self._queue):
                    return
                if final:
                    break
                raw = self._next_raw()
            self._put(None, self._queue)
        except BaseException as exc:  # handed to the consumer, which raises it in its thread
            self._put(exc, self._queue)

    def _fill(self) -> bool:
        """Make sure unread bytes are at hand; False at the end of the data."""
        while self._pos >= len(self._chunk):
            if self._eof:
                return False
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():  # closed while a read was waiting
                    self._eof = True
                    return False
                continue
            if item is None or isinstance(item, BaseException):
                self._eof = True
                if isinstance(item, BaseException):
                    self.error = item
                return False
            self._chunk, self._pos = item, 0
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes, fewer only at the end of the data: the parser takes what one
        read returns as its block, so a short read would shrink the largest row it can hold."""
        if not self._fill():
            return b""
        if size is None or size < 0:
            size = len(self._chunk) - self._pos
        parts = []
        while size > 0 and self._fill():
            out = self._chunk[self._pos : self._pos + size]
            self._pos += len(out)
            size -= len(out)
            parts.append(out)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readline(self) -> bytes:
        """The first line (the header); the rest stays buffered for the parser."""
        line = bytearray()
        while self._fill():
            end = self._chunk.find(b"\n", self._pos)
            if end >= 0:
                line += self._chunk[self._pos : end + 1]
                self._pos = end + 1
                return bytes(line)
            line += self._chunk[self._pos :]
            self._pos = len(self._chunk)
        return bytes(line)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stop.set()
        self.closed = True


def open_csv_stream(
    open_raw: Callable[[], ByteSource],
    *,
    package: str,
    entry: str,
    label: str,
    columns: Callable[[str], str | None],
    order: list[str] | None,
    encoding: str,
    on_error: Callable[[RowError], None] | None,
    block_size: int = CHUNK,
    required: Mapping[str, str] | None = None,
) -> pa.RecordBatchReader:
    """A record batch reader over one CSV data file; see the module docstring.

    ``required`` maps output names the header must hold to the column name to show when one
    is missing (keys, columns the manifest maps): without them the file cannot be landed.
    """
    source = _Transcoder(open_raw, encoding, CHUNK)
    try:
        header_line = source.readline().decode("utf-8").strip("\r\n")
        if source.error is not None:
            raise source.error
    except BaseException as exc:
        source.close()
        raise PackageFormatError(package, f"unreadable data file ({exc})", entry=entry) from exc
    if not header_line.strip():
        source.close()
        raise PackageFormatError(package, "the data file is empty (no header row)", entry=entry)
    try:
        if "\x00" in header_line:
            raise ValueError(
                "the header row holds NUL characters: the file is not in the encoding its "
                "format says (CSV-Unicode is UTF-16 LE with a byte order mark)"
            )
        header = next(csv.reader(io.StringIO(header_line)))
    except (csv.Error, ValueError) as exc:
        source.close()
        raise PackageFormatError(package, f"unreadable header row: {exc}", entry=entry) from None
    names = [columns(h) for h in header]
    present: dict[str, int] = {}
    for position, name in enumerate(names):
        if name is None:
            continue
        if name in present:
            source.close()
            raise PackageFormatError(
                package, f"column {header[position]!r} appears twice in the header", entry=entry
            )
        present[name] = position
    unknown = [h for h, n in zip(header, names, strict=True) if n is None]
    if unknown:
        log.warning("%s [%s]: columns not in the catalog are not read: %s", package, entry, unknown)
    if order is not None and not present:
        source.close()
        raise PackageFormatError(
            package,
            f"no column of the header is a field of '{label}' (header: {header_line[:200]!r})",
            entry=entry,
        )
    absent = [shown for name, shown in (required or {}).items() if name not in present]
    if absent:
        source.close()
        raise PackageFormatError(
            package, f"column(s) {', '.join(absent)} missing from the header", entry=entry
        )
    output = order if order is not None else list(present)
    missing = [n for n in output if n not in present]
    if missing:
        log.warning(
            "%s [%s]: columns missing from the file come as nulls: %s", package, entry, missing
        )
    internal = [f"c{i}" for i in range(len(header))]
    bad: deque[RowError] = deque()

    def invalid_row(row: pacsv.InvalidRow) -> str:
        bad.append(
            RowError(
                label,
                entry,
                int(row.number or 0),
                f"expected {row.expected_columns} columns, found {row.actual_columns}",
                row.text,
            )
        )
        return "skip"

    wanted = [internal[present[n]] for n in output if n in present]

    def parse(stream: _Transcoder, block: int) -> pacsv.CSVStreamingReader:
        return pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                column_names=internal, use_threads=False, block_size=block
            ),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=invalid_row
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in internal},
                include_columns=wanted,
                strings_can_be_null=False,
                check_utf8=False,
            ),
        )

    def reopen(block: int) -> tuple[_Transcoder, pacsv.CSVStreamingReader]:
        again = _Transcoder(open_raw, encoding, CHUNK)
        try:
            again.readline()  # the header, read above
            return again, parse(again, block)
        except BaseException:
            again.close()
            raise

    try:
        reader = parse(source, block_size)
    except (pa.ArrowInvalid, OSError) as exc:
        source.close()
        if "Empty CSV file" in str(exc):
            return pa.RecordBatchReader.from_batches(_schema(output), iter(()))
        raise PackageFormatError(package, f"CSV not readable: {exc}", entry=entry) from exc
    schema = _schema(output)
    stream = _Stream(
        reader, source, reopen, block_size, bad, schema, output, present, internal, on_error,
        package, entry, label,
    )  # fmt: skip
    return pa.RecordBatchReader.from_batches(schema, stream.batches())


def _schema(output: list[str]) -> pa.Schema:
    fields = [pa.field(n, pa.string()) for n in output]
    return pa.schema([*fields, pa.field(ROW_NUMBER, pa.int64(), nullable=False)])


class _Stream:
    """The batches of one data file, numbered, with unreadable rows routed to ``on_error``.

    A row larger than the parser's block (a field of several megabytes) stops pyarrow's reader;
    the file is then read again with a block four times larger, skipping the rows already handed
    on, up to :data:`MAX_BLOCK`.
    """

    def __init__(
        self,
        reader: pacsv.CSVStreamingReader,
        source: _Transcoder,
        reopen: Callable[[int], tuple[_Transcoder, pacsv.CSVStreamingReader]],
        block_size: int,
        bad: deque[RowError],
        schema: pa.Schema,
        output: list[str],
        present: dict[str, int],
        internal: list[str],
        on_error: Callable[[RowError], None] | None,
        package: str,
        entry: str,
        label: str,
    ) -> None:
        self.reader, self.source, self.reopen, self.block = reader, source, reopen, block_size
        self.bad, self.schema, self.output = bad, schema, output
        self.present, self.internal, self.on_error = present, internal, on_error
        self.package, self.entry, self.label = package, entry, label
        self.next_row = 1  # the data row number the next row gets
        self.parsed = 0  # rows pyarrow handed over so far (before routing undecodable ones)
        self.replayed = 0  # rows before this number were handed on before a re-read

    def emit(self, error: RowError) -> None:
        if error.row_number < self.replayed:
            return  # reported again by a re-read: it went to the error channel already
        if self.on_error is None:
            raise PackageFormatError(
                self.package,
                f"row {error.row_number}: {error.reason}: {error.raw_text[:200]!r}",
                entry=self.entry,
            )
        self.on_error(error)

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            while True:
                try:
                    yield from self._read()
                    break
                except pa.ArrowInvalid as exc:
                    if "straddl" not in str(exc) or self.block >= MAX_BLOCK:
                        raise
                    self._read_again()
            while self.bad:
                self.emit(self.bad.popleft())
            if self.source.error is not None:
                raise PackageFormatError(
                    self.package, f"data file is damaged ({self.source.error})", entry=self.entry
                ) from self.source.error
        except pa.ArrowInvalid as exc:
            raise PackageFormatError(
                self.package, f"CSV not readable near row {self.next_row}: {exc}", entry=self.entry
            ) from exc
        finally:
            self.source.close()

    def _read_again(self) -> None:
        self.source.close()
        self.block *= 4
        log.info(
            "%s [%s]: row %d is larger than the read block; reading again with %d MB blocks",
            self.package, self.entry, self.next_row, self.block >> 20,
        )  # fmt: skip
        self.bad.clear()
        self.replayed = self.next_row
        self.source, self.reader = self.reopen(self.block)

    def _read(self) -> Iterator[pa.RecordBatch]:
        bad = self.bad
        skip = self.parsed  # after a re-read: rows already handed on
        counting = _Counting()
        for batch in self.reader:
            if skip:
                dropped = min(skip, batch.num_rows)
                skip -= dropped
                batch = batch.slice(dropped)
                if not batch.num_rows:
                    continue
            self.parsed += batch.num_rows
            count = batch.num_rows
            spans: list[tuple[int, int]] = []
            while count:
                if bad and bad[0].row_number < self.replayed:
                    bad.popleft()
                    continue
                if bad and bad[0].row_number <= self.next_row:
                    self.emit(bad.popleft())
                    self.next_row += 1
                    continue
                stop = self.next_row + count
                if bad and bad[0].row_number < stop:
                    stop = bad[0].row_number
                spans.append((self.next_row, stop))
                count -= stop - self.next_row
                self.next_row = stop
            numbers = (
                pa.concat_arrays([counting.span(a, b) for a, b in spans])
                if spans
                else pa.array([], pa.int64())
            )
            if self.source.decode_errors or self.source.nul_chunks:
                batch, numbers = _route_unreadable(
                    batch, numbers, self.emit, self.label, self.entry
                )
            arrays = [
                batch.column(self.internal[self.present[name]])
                if name in self.present
                else pa.nulls(batch.num_rows, pa.string())
                for name in self.output
            ]
            yield pa.RecordBatch.from_arrays([*arrays, numbers], schema=self.schema)


class _Counting:
    """Row numbers a..b-1 as Arrow arrays: one vectorised add on a cached 0..n-1 range, instead
    of building each batch's numbers from Python integers."""

    def __init__(self) -> None:
        self._base = pa.array([], pa.int64())

    def span(self, start: int, stop: int) -> pa.Array:
        size = stop - start
        if len(self._base) < size:
            self._base = pa.array(range(max(size, 2 * len(self._base))), pa.int64())
        return pc.add(self._base.slice(0, size), pa.scalar(start, pa.int64()))


UNREADABLE = (
    (REPLACEMENT, "text not valid in the file's encoding"),
    ("\x00", "a NUL character in the text"),
)


def _route_unreadable(
    batch: pa.RecordBatch,
    numbers: pa.Array,
    emit: Callable[[RowError], None],
    label: str,
    entry: str,
) -> tuple[pa.RecordBatch, pa.Array]:
    """Take out rows holding U+FFFD (bytes that were not text) or a NUL character and report
    them, each with what was wrong."""
    masks = []
    for needle, _ in UNREADABLE:
        mask = None
        for column in batch.columns:
            hit = pc.match_substring(column, needle)
            mask = hit if mask is None else pc.or_(mask, hit)
        masks.append(mask if mask is not None else pa.array([False] * batch.num_rows))
    either = pc.or_(masks[0], masks[1])
    if not pc.any(either).as_py():
        return batch, numbers
    rows = batch.filter(either)
    hits = [m.filter(either).to_pylist() for m in masks]
    for position, number in enumerate(numbers.filter(either).to_pylist()):
        values = [str(rows.column(i)[position].as_py() or "") for i in range(rows.num_columns)]
        text = ",".join('"' + v.replace('"', '""') + '"' for v in values)
        reason = "; ".join(
            why for (_, why), hit in zip(UNREADABLE, hits, strict=True) if hit[position]
        )
        emit(RowError(label, entry, number, reason, text))
    keep = pc.invert(either)
    return batch.filter(keep), numbers.filter(keep)
