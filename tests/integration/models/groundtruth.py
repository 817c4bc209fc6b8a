"""Score the built models against a world's ground truth.

Reports: an entry is found when ``reports.rpt_mismatches`` has a row of the same kind, entity,
legal entity and record key (and field, where the entry names one); every entry and every row is
used once (multiset), so two stale fields of one vendor need two rows. Deltas: every payload is
exploded to (entity, legal entity, record key, field, action) — creates by CLM id and object type,
the master-data feed by vendor account and SCM field — and must equal the ground truth entries that
carry an action, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse import taxonomy

TRUTH_COLUMNS = ("kind", "entity", "legal_entity", "record_key", "field", "clm_id")
# The CLM field of the master-data feed → the SCM field the ground truth names.
CLM_TO_SCM_FIELD = {
    "name": "VendorOrganizationName",
    "address.street": "AddressStreet",
    "address.city": "AddressCity",
    "address.zip": "AddressZipCode",
    "country": "AddressCountryRegionId",
    "currency": "CurrencyCode",
    "payment_terms": "DefaultPaymentTermsName",
}
CREATE_OBJECT = {
    "CLMIntegrationContracts": "contract",
    "CLMIntegrationPurchaseAgreements": "agreement",
    "CLMIntegrationPurchaseAgreementLines": "agreement_line",
}
SCM_DELTAS = (
    "deltas.dlt_scm__contracts",
    "deltas.dlt_scm__purchase_agreements",
    "deltas.dlt_scm__purchase_agreement_lines",
)


@dataclass
class KindScore:
    kind: str
    expected: int
    reported: int
    matched: int

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.reported if self.reported else 1.0


@dataclass
class Score:
    label: str
    kinds: dict[str, KindScore]
    noise_rows: list[tuple[Any, ...]]
    missing: list[tuple[Any, ...]]
    extra: list[tuple[Any, ...]]
    delta_missing: list[tuple[Any, ...]] = field(default_factory=list)
    delta_extra: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        reported = sum(k.reported for k in self.kinds.values())
        matched = sum(k.matched for k in self.kinds.values())
        return matched / reported if reported else 1.0

    def table(self) -> str:
        lines = [f"{self.label}: overall precision {self.precision:.4f}"]
        head = ("kind", "expected", "reported", "recall", "prec")
        lines.append(f"  {head[0]:32s} {head[1]:>8s} {head[2]:>8s} {head[3]:>7s} {head[4]:>7s}")
        for name in sorted(self.kinds):
            k = self.kinds[name]
            lines.append(
                f"  {name:32s} {k.expected:8d} {k.reported:8d} {k.recall:7.3f} {k.precision:7.3f}"
            )
        return "\n".join(lines)


def load_truth(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Temp tables ``gt`` (discrepancies, with ``report`` and ``action``) and ``gt_noise``."""
    cols = ", ".join(f"e.{c}::VARCHAR AS {c}" for c in TRUTH_COLUMNS)
    for table, member in (("gt", "discrepancies"), ("gt_noise", "noise")):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {cols}, "
            "e.expected.report::VARCHAR AS report, e.expected.action::VARCHAR AS action "
            f"FROM (SELECT unnest({member}) AS e "
            "FROM read_json(?, maximum_object_size = 1000000000))",
            [str(path)],
        )


def _matched_by_kind(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Entries found in the report, per kind (each entry and each row used once)."""
    sql = """
        WITH g AS (SELECT *, row_number() OVER (PARTITION BY kind, entity, legal_entity,
                       record_key, field ORDER BY clm_id) AS n
                   FROM gt WHERE report IS NOT NULL),
             r AS (SELECT *, row_number() OVER (PARTITION BY kind, entity, legal_entity,
                       record_key, field ORDER BY clm_id) AS n
                   FROM reports.rpt_mismatches)
        SELECT g.kind, count(*) FROM g JOIN r
          ON r.kind = g.kind AND r.entity = g.entity
         AND r.legal_entity IS NOT DISTINCT FROM g.legal_entity
         AND r.record_key = g.record_key AND r.field IS NOT DISTINCT FROM g.field AND r.n = g.n
        GROUP BY g.kind"""
    return {str(k): int(n) for k, n in con.execute(sql).fetchall()}


def score(con: duckdb.DuckDBPyConnection, label: str) -> Score:
    """Per-kind recall and precision of ``reports.rpt_mismatches``, noise hits, delta diffs."""
    expected = dict(
        con.execute(
            "SELECT kind, count(*) FROM gt WHERE report IS NOT NULL GROUP BY kind"
        ).fetchall()
    )
    reported = dict(
        con.execute("SELECT kind, count(*) FROM reports.rpt_mismatches GROUP BY kind").fetchall()
    )
    matched = _matched_by_kind(con)
    kinds = {
        name: KindScore(
            name, int(expected.get(name, 0)), int(reported.get(name, 0)), matched.get(name, 0)
        )
        for name in sorted(set(expected) | set(reported) | set(taxonomy.kind_names()))
    }
    key = "kind, entity, legal_entity, record_key, field"
    missing = con.execute(
        f"SELECT {key} FROM gt WHERE report IS NOT NULL EXCEPT ALL "
        f"SELECT {key} FROM reports.rpt_mismatches ORDER BY ALL LIMIT 20"
    ).fetchall()
    extra = con.execute(
        f"SELECT {key} FROM reports.rpt_mismatches EXCEPT ALL "
        f"SELECT {key} FROM gt WHERE report IS NOT NULL ORDER BY ALL LIMIT 20"
    ).fetchall()
    noise_rows = con.execute(
        "SELECT n.kind, r.kind, r.entity, r.legal_entity, r.record_key, r.field "
        "FROM gt_noise n JOIN reports.rpt_mismatches r ON r.entity = n.entity "
        "AND r.legal_entity = n.legal_entity AND r.record_key = n.record_key "
        "AND r.field IS NOT DISTINCT FROM n.field LIMIT 20"
    ).fetchall()
    result = Score(label, kinds, noise_rows, missing, extra)
    result.delta_missing, result.delta_extra = compare_deltas(con)
    return result


def exploded_deltas_sql() -> str:
    """Every delta as (entity, legal_entity, record_key, field, action) rows."""
    parts = []
    for table in SCM_DELTAS:
        objects = " ".join(f"WHEN '{e}' THEN '{o}'" for e, o in CREATE_OBJECT.items())
        parts.append(
            f"SELECT CASE entity {objects} END AS entity, legal_entity, record_key, "
            f"NULL AS field, action FROM {table} WHERE action = 'create'"
        )
        parts.append(
            "SELECT entity, legal_entity, record_key, f.field, action FROM "
            f"(SELECT *, unnest(json_keys(payload)) AS field FROM {table} "
            "WHERE action <> 'create') f"
        )
        parts.append(
            f"SELECT entity, legal_entity, record_key, NULL, action FROM {table} "
            "WHERE action <> 'create' AND json_keys(payload) = []"
        )
    fields = " ".join(f"WHEN '{c}' THEN '{s}'" for c, s in CLM_TO_SCM_FIELD.items())
    parts.append(
        f"SELECT 'VendorsV2', legal_entity, vendor_account, CASE f.field {fields} END, action "
        "FROM (SELECT *, unnest(json_keys(payload)) AS field FROM deltas.dlt_clm__master_data) f"
    )
    return " UNION ALL ".join(parts)


def compare_deltas(
    con: duckdb.DuckDBPyConnection,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(expected actions not in the deltas, delta rows no entry expects), multiset."""
    key = "entity, legal_entity, record_key, field, action"
    deltas = exploded_deltas_sql()
    missing = con.execute(
        f"SELECT {key} FROM gt WHERE action IS NOT NULL EXCEPT ALL ({deltas}) ORDER BY ALL LIMIT 20"
    ).fetchall()
    extra = con.execute(
        f"({deltas}) EXCEPT ALL SELECT {key} FROM gt WHERE action IS NOT NULL ORDER BY ALL LIMIT 20"
    ).fetchall()
    return missing, extra
