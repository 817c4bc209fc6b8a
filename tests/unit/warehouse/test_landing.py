from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from connectors.errors import CompletenessError, LandingError
from tests.unit.warehouse.helpers import T0, batch, rows, scalar
from warehouse import landing, relations, state
from warehouse.landing import BadRow

LINES = relations.scm("CLMIntegrationPurchaseAgreementLines")
VENDORS = relations.scm("VendorsV2")


def line(pa_id: str, number: str, **extra: str | None) -> dict[str, str | None]:
    return {
        "PurchaseAgreementLegalEntityId": "usmf",
        "PurchaseAgreementId": pa_id,
        "LineNumber": number,
        **extra,
    }


def land_lines(
    con: duckdb.DuckDBPyConnection, data: pa.Table, execution: str = "EXE-1", **kw: object
) -> landing.LandingResult:
    return landing.land_scm(
        con,
        LINES.name,
        data,
        run_id="run-1",
        execution_id=execution,
        source_file="CLM integration purchase agreement lines.csv",
        legal_entity="usmf",
        extracted_at=T0,
        **kw,  # type: ignore[arg-type]
    )


def test_good_rows_land_as_text_with_lineage_in_catalog_order(
    con: duckdb.DuckDBPyConnection,
) -> None:
    result = land_lines(con, batch([line("PA1", "1", Price="12.50"), line("PA1", "2")]))
    assert (result.rows_in, result.landed, result.quarantined) == (2, 2, 0)
    columns = [r[0] for r in rows(con, "DESCRIBE raw_scm.purchase_agreement_lines")]
    assert columns == [*LINES.fields, "_run_id", "_execution_id", "_extracted_at",
                       "_source_file", "_row_number", "_load_id"]  # fmt: skip
    assert rows(
        con,
        'SELECT "LineNumber", "Price", _run_id, _execution_id, _extracted_at, _row_number '
        "FROM raw_scm.purchase_agreement_lines ORDER BY _row_number",
    ) == [("1", "12.50", "run-1", "EXE-1", T0, 1), ("2", None, "run-1", "EXE-1", T0, 2)]


def test_en_us_and_iso_dates_pass_and_impossible_dates_are_quarantined(
    con: duckdb.DuckDBPyConnection,
) -> None:
    dates = [
        "3/1/2025 12:00:00 AM",
        "12/31/2025 11:59:59 PM",
        "1/1/1900 12:00:00 AM",  # SCM's blank date
        "2025-03-01T12:00:00Z",
        "2025-03-01",
        "2/30/2025 12:00:00 AM",
        "13/1/2025 12:00:00 AM",
        "01.03.2025",
    ]
    data = batch([line("PA1", str(i), EffectiveDate=d) for i, d in enumerate(dates, 1)])
    result = land_lines(con, data)
    assert (result.rows_in, result.landed, result.quarantined) == (8, 5, 3)
    reasons = rows(con, "SELECT row_number, reason FROM ops.quarantine ORDER BY row_number")
    assert [r[0] for r in reasons] == [6, 7, 8]
    assert reasons[0][1].startswith("EffectiveDate: '2/30/2025 12:00:00 AM' is not a date")


def test_numbers_are_checked_and_every_failure_of_a_row_is_named(
    con: duckdb.DuckDBPyConnection,
) -> None:
    data = batch(
        [
            line("PA1", "1", Price="1.5", CommittedQuantity=" 10 "),
            line("PA1", "2", Price="1,5"),  # a decimal comma
            line("PA1", "x", Price="1e3"),
            line("PA1", "4", Price="12.3.4", ExpirationDate="yesterday"),
        ]
    )
    result = land_lines(con, data)
    assert (result.landed, result.quarantined) == (1, 3)
    reasons = dict(rows(con, "SELECT row_number, reason FROM ops.quarantine"))
    assert reasons[2] == "Price: '1,5' is not a decimal number"
    assert reasons[3] == "LineNumber: 'x' is not a decimal number"
    assert "Price: '12.3.4'" in reasons[4]
    assert "ExpirationDate: 'yesterday'" in reasons[4]


def test_int_fields_refuse_fractions(con: duckdb.DuckDBPyConnection) -> None:
    units = relations.scm("UnitsOfMeasure")
    data = batch([{"UnitSymbol": u, "DecimalPrecision": p} for u, p in
                  [("ea", "2"), ("kg", "-1"), ("m", "1.5"), ("l", "two")]])  # fmt: skip
    result = landing.land(con, units, data, run_id="r", batch_id="odata", source_file="page")
    assert (result.landed, result.quarantined) == (2, 2)
    assert scalar(con, "SELECT reason FROM ops.quarantine WHERE row_number = 3") == (
        "DecimalPrecision: '1.5' is not an integer"
    )


def test_quarantine_keeps_the_raw_text_and_the_reader_rejects(
    con: duckdb.DuckDBPyConnection,
) -> None:
    bad = [BadRow(3, "expected 20 columns, found 3", '"usmf","PA9","1"')]
    result = land_lines(con, batch([line("PA1", "1"), line("", "2")]), bad_rows=bad)
    assert (result.rows_in, result.landed, result.quarantined) == (3, 1, 2)
    assert result.rejected_by_reader == 1
    got = {
        r[0]: (r[1], r[2])
        for r in rows(con, "SELECT row_number, reason, raw_text FROM ops.quarantine")
    }
    assert got[3] == ("expected 20 columns, found 3", '"usmf","PA9","1"')
    assert got[2][0] == "PurchaseAgreementId: key is empty"
    assert '"PurchaseAgreementId":""' in got[2][1]
    source = rows(con, "SELECT DISTINCT source, entity, source_file, batch_id FROM ops.quarantine")
    assert source == [("scm", LINES.name, "CLM integration purchase agreement lines.csv", "EXE-1")]


def test_reader_rejects_given_as_a_list_filled_while_reading_are_counted(
    con: duckdb.DuckDBPyConnection,
) -> None:
    found: list[BadRow] = []

    def stream() -> list[pa.RecordBatch]:
        found.append(BadRow(2, "undecodable text", "\\xff"))
        return batch([line("PA1", "1")]).to_batches()

    result = land_lines(con, iter(stream()), bad_rows=found)
    assert (result.rows_in, result.landed, result.quarantined) == (2, 1, 1)


def test_a_row_number_used_twice_is_refused_and_nothing_lands(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(LandingError, match=r"row numbers used more than once: 1 \(2 times\)"):
        land_lines(con, batch([line("PA1", "1")]), bad_rows=[BadRow(1, "dup", "x")])
    assert scalar(con, "SELECT count(*) FROM raw_scm.purchase_agreement_lines") == 0
    assert scalar(con, "SELECT count(*) FROM ops.quarantine") == 0


def test_unknown_and_missing_key_columns_are_refused_but_other_fields_may_be_missing(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(LandingError, match=r"not in the catalog.*'Colour'"):
        land_lines(con, batch([line("PA1", "1", Colour="red")]))
    with pytest.raises(LandingError, match=r"key columns missing: \['LineNumber'\]"):
        land_lines(con, batch([{"PurchaseAgreementLegalEntityId": "usmf",
                                "PurchaseAgreementId": "PA1"}]))  # fmt: skip
    no_rows = pa.table({"PurchaseAgreementId": ["PA1"]})
    with pytest.raises(LandingError, match="no _row_number column"):
        land_lines(con, no_rows)
    upper = batch([{"PURCHASEAGREEMENTLEGALENTITYID": "usmf", "PURCHASEAGREEMENTID": "PA1",
                    "LINENUMBER": "1"}])  # fmt: skip
    assert land_lines(con, upper).landed == 1


def test_landing_the_same_file_twice_leaves_one_copy(con: duckdb.DuckDBPyConnection) -> None:
    data = batch([line("PA1", "1"), line("PA1", "2"), line("PA1", "z")])
    first = land_lines(con, data, watermark=state.Watermark(execution_id="EXE-1"))
    again = land_lines(con, data, watermark=state.Watermark(execution_id="EXE-1"))
    assert again.skipped
    assert not first.skipped
    assert (again.rows_in, again.landed, again.quarantined) == (3, 2, 1)
    assert scalar(con, "SELECT count(*) FROM raw_scm.purchase_agreement_lines") == 2
    assert scalar(con, "SELECT count(*) FROM ops.quarantine") == 1
    extract = state.get_extract_state(con, "scm", LINES.name, "usmf")
    assert extract is not None
    assert extract.rows_total == 2
    land_lines(con, data, execution="EXE-2")
    assert scalar(con, "SELECT count(*) FROM raw_scm.purchase_agreement_lines") == 4


def test_a_shortfall_against_the_source_count_rolls_back_rows_and_watermark(
    con: duckdb.DuckDBPyConnection,
) -> None:
    land_lines(con, batch([line("PA1", "1")]), watermark=state.Watermark(execution_id="EXE-1"))
    with pytest.raises(CompletenessError, match=r"expected 3 rows, landed 2"):
        land_lines(
            con,
            batch([line("PA1", "2"), line("PA1", "3")]),
            execution="EXE-2",
            expected_rows=3,
            watermark=state.Watermark(execution_id="EXE-2"),
        )
    assert scalar(con, "SELECT count(*) FROM raw_scm.purchase_agreement_lines") == 1
    assert scalar(con, "SELECT count(*) FROM ops.landed_files") == 1
    extract = state.get_extract_state(con, "scm", LINES.name, "usmf")
    assert extract is not None
    assert extract.last_execution_id == "EXE-1"


def test_a_failing_watermark_update_rolls_back_the_landing(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("state store unavailable")

    monkeypatch.setattr(state, "advance", broken)
    with pytest.raises(RuntimeError):
        land_lines(con, batch([line("PA1", "1")]), watermark=state.Watermark(execution_id="E"))
    assert scalar(con, "SELECT count(*) FROM raw_scm.purchase_agreement_lines") == 0
    assert scalar(con, "SELECT count(*) FROM ops.landed_files") == 0
    monkeypatch.undo()
    assert land_lines(con, batch([line("PA1", "1")])).landed == 1  # and it can land again


def test_landing_the_pending_execution_clears_it(con: duckdb.DuckDBPyConnection) -> None:
    state.set_pending(con, "scm", [LINES.name, VENDORS.name], "USMF", "EXE-7", run_id="run-1")
    pending = state.get_extract_state(con, "scm", LINES.name, "usmf")
    assert pending is not None
    assert pending.pending_execution_id == "EXE-7"
    land_lines(
        con,
        batch([line("PA1", "1")]),
        execution="EXE-7",
        watermark=state.Watermark(execution_id="EXE-7", change_version="42"),
    )
    after = state.get_extract_state(con, "scm", LINES.name, "usmf")
    assert after is not None
    assert (after.pending_execution_id, after.last_execution_id, after.change_version) == (
        None,
        "EXE-7",
        "42",
    )
    vendors = state.get_extract_state(con, "scm", VENDORS.name, "usmf")
    assert vendors is not None
    assert vendors.pending_execution_id == "EXE-7"


def test_an_empty_stream_records_the_execution_with_zero_rows(
    con: duckdb.DuckDBPyConnection,
) -> None:
    result = land_lines(con, [], watermark=state.Watermark(execution_id="EXE-1"))
    assert (result.rows_in, result.landed, result.skipped) == (0, 0, False)
    extract = state.get_extract_state(con, "scm", LINES.name, "usmf")
    assert extract is not None
    assert extract.last_execution_id == "EXE-1"


def test_clm_rows_land_with_their_cursor_and_bad_json_is_quarantined(
    con: duckdb.DuckDBPyConnection,
) -> None:
    data = batch(
        [
            {"id": "CPTY-1", "name": "A", "address": '{"street": "1 Main"}',
             "updated_at": "2026-01-01T00:00:00Z"},
            {"id": "CPTY-2", "name": "B", "address": '{"street": ', "updated_at": "now"},
        ]
    )  # fmt: skip
    cursor = "2026-01-01T00:00:00Z"
    result = landing.land_clm(
        con, "counterparty", data, run_id="r", cursor=cursor,
        source_file="counterparties.jsonl", watermark=state.Watermark(cursor=cursor),
    )  # fmt: skip
    assert (result.landed, result.quarantined) == (1, 1)
    assert rows(con, "SELECT id, _cursor FROM raw_clm.counterparties") == [
        ("CPTY-1", "2026-01-01T00:00:00Z")
    ]
    reason = str(scalar(con, "SELECT reason FROM ops.quarantine"))
    assert "address: '{\"street\": ' is not valid JSON" in reason
    assert "updated_at: 'now' is not a datetime" in reason
    extract = state.get_extract_state(con, "clm", "counterparty")
    assert extract is not None
    assert extract.cursor == "2026-01-01T00:00:00Z"
