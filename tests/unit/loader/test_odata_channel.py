"""The OData channel against a fake SCM: atomic changesets, one bad record, lost answers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import duckdb

from connectors.batch import NOT_APPLIED, Operation, OperationResult
from connectors.errors import ODataRequestError, ODataUnavailable
from loader import ledger, odata_channel
from loader.odata_channel import OdataOptions
from loader.plan import load_rows, make_plan
from tests.unit.loader import kit

WRITE = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"


class FakeScm:
    """Applies changesets atomically; lines named in ``bad`` break a business rule."""

    def __init__(self, bad: Sequence[str] = (), *, attributed: bool = True) -> None:
        self.bad = set(bad)
        self.attributed = attributed
        self.lines: dict[str, dict[str, Any]] = {}
        self.requests: list[list[list[str]]] = []
        self.flaky: dict[str, int] = {}  # line id -> transient failures left
        self.lose_answer_of_request: int | None = None

    @staticmethod
    def _line(op: Operation) -> str:
        return str(
            (op.body or {}).get("ExternalContractLineId") or (op.keys or {}).get("LineNumber")
        )

    def batch(self, changesets: Sequence[Sequence[Operation]]) -> list[OperationResult]:
        self.requests.append([[self._line(op) for op in cs] for cs in changesets])
        results: list[OperationResult] = []
        for number, changeset in enumerate(changesets):
            mine: list[OperationResult] = []
            staged: dict[str, dict[str, Any]] = {}
            culprit: OperationResult | None = None
            for op in changeset:
                line = self._line(op)
                if op.method == "DELETE" and line not in self.lines:
                    culprit = OperationResult(number, line, op, 404, error="Resource not found")
                elif line in self.bad:
                    message = f"Write failed: The value 'X' in field 'UnitSymbol' ({line})"
                    culprit = OperationResult(
                        number, line, op, 500, error=message, error_type=WRITE
                    )
                elif self.flaky.get(line, 0) > 0:
                    self.flaky[line] -= 1
                    culprit = OperationResult(number, line, op, 500, error="An error has occurred.")
                if culprit is not None:
                    break
                body = {**(op.body or {}), "PurchaseAgreementId": "PA1",
                        "LineNumber": len(self.lines) + len(staged) + 1}  # fmt: skip
                staged[line] = body
                mine.append(OperationResult(number, line, op, 201, body=body))
            if culprit is None:
                self.lines.update(staged)
                results.extend(mine)
                continue
            for op in changeset:
                line = self._line(op)
                if not self.attributed:
                    status, error, kind = culprit.status, culprit.error, culprit.error_type
                    results.append(
                        OperationResult(number, line, op, status, error=error, error_type=kind)
                    )
                elif line == culprit.content_id:
                    results.append(culprit)
                else:
                    results.append(
                        OperationResult(number, line, op, NOT_APPLIED, error="rolled back")
                    )
        if len(self.requests) == self.lose_answer_of_request:
            raise ODataUnavailable("connection dropped", status=0, method="POST")
        return results

    def pages(self, entity_set: str, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        yield [
            {"PurchaseAgreementLegalEntityId": "usmf", "ExternalContractLineId": k, **v}
            for k, v in self.lines.items()
        ]


def _plan(n: int) -> tuple[duckdb.DuckDBPyConnection, list]:
    con = kit.warehouse()
    kit.write(con, [kit.line_create("usmf", f"AGL-{i:08d}", "K-1") for i in range(1, n + 1)])
    make_plan(con, "run-1", threshold=1000)
    ledger.open_rows(con, "run-1")
    return con, load_rows(con, "run-1")


def _statuses(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str | None]]:
    return {
        int(s): (st, m)
        for s, st, m in con.execute(
            "SELECT seq, status, scm_message FROM ops.push_ledger ORDER BY seq"
        ).fetchall()
    }


def test_one_bad_record_fails_alone_and_its_changeset_goes_again_without_it() -> None:
    con, rows = _plan(7)
    scm = FakeScm(bad=["AGL-00000002"])
    odata_channel.push(con, scm, "run-1", rows, options=OdataOptions(changeset_size=3))  # type: ignore[arg-type]
    assert scm.requests == [
        [["AGL-00000001", "AGL-00000002", "AGL-00000003"]],
        [["AGL-00000001", "AGL-00000003", "AGL-00000004"]],
        [["AGL-00000005", "AGL-00000006", "AGL-00000007"]],
    ]
    statuses = _statuses(con)
    assert [s for s, _ in statuses.values()] == ["succeeded", "failed"] + ["succeeded"] * 5
    assert "UnitSymbol" in str(statuses[2][1])
    assert len(scm.lines) == 6


def test_an_error_not_tied_to_an_operation_is_found_by_sending_one_by_one() -> None:
    con, rows = _plan(4)
    scm = FakeScm(bad=["AGL-00000003"], attributed=False)
    odata_channel.push(con, scm, "run-1", rows, options=OdataOptions(changeset_size=4))  # type: ignore[arg-type]
    assert scm.requests[1] == [["AGL-00000001"]]
    assert [s for s, _ in _statuses(con).values()] == [
        "succeeded",
        "succeeded",
        "failed",
        "succeeded",
    ]


def test_a_transient_failure_is_retried_then_given_up() -> None:
    con, rows = _plan(2)
    scm = FakeScm()
    scm.flaky = {"AGL-00000001": 1, "AGL-00000002": 5}
    odata_channel.push(con, scm, "run-1", rows, options=OdataOptions(changeset_size=1))  # type: ignore[arg-type]
    statuses = _statuses(con)
    assert statuses[1][0] == "succeeded"
    assert statuses[2] == ("failed", "An error has occurred.")
    reason = con.execute("SELECT reason, attempts FROM ops.push_ledger WHERE seq = 2").fetchall()
    assert reason == [("SCM failed 3 times (HTTP 500)", 3)]


def test_a_lost_answer_is_settled_by_natural_key_and_nothing_is_created_twice() -> None:
    con, rows = _plan(4)
    scm = FakeScm()
    scm.lose_answer_of_request = 1  # the first changeset is applied, its answer lost
    odata_channel.push(con, scm, "run-1", rows, options=OdataOptions(changeset_size=2))  # type: ignore[arg-type]
    assert scm.requests == [[["AGL-00000001", "AGL-00000002"]], [["AGL-00000003", "AGL-00000004"]]]
    assert [s for s, _ in _statuses(con).values()] == ["succeeded"] * 4
    found = con.execute(
        "SELECT seq, reason, generated_keys->>'LineNumber' FROM ops.push_ledger "
        "WHERE reason IS NOT NULL ORDER BY seq"
    ).fetchall()
    assert [(s, r.split(" after")[0], n) for s, r, n in found] == [
        (1, "found in SCM by its natural key", "1"),
        (2, "found in SCM by its natural key", "2"),
    ]


class RefusingScm(FakeScm):
    def batch(self, changesets: Sequence[Sequence[Operation]]) -> list[OperationResult]:
        self.requests.append([[self._line(op) for op in cs] for cs in changesets])
        if len(self.requests) == 1:
            raise ODataRequestError("The batch request is malformed.", status=400, method="POST")
        return super().batch(changesets)


def test_a_batch_refused_as_a_whole_fails_its_rows_and_the_push_goes_on() -> None:
    con, rows = _plan(4)
    scm = RefusingScm()
    odata_channel.push(con, scm, "run-1", rows, options=OdataOptions(changeset_size=2))  # type: ignore[arg-type]
    statuses = _statuses(con)
    assert statuses[1] == ("failed", "The batch request is malformed.")
    assert [s for s, _ in statuses.values()] == ["failed", "failed", "succeeded", "succeeded"]
