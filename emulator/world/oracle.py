"""The reference reconciliation: what a correct run must report, computed from the data itself.

It reads SCM's tables, the CLM's collections, the seed tables and the world's hidden link table
(which vendor a name-only counterparty really is) and applies the rules of ``truth`` with the
normalisation a correct reconciliation uses: text compared after NFC, trimming, collapsing
whitespace and case-folding; codes mapped through the seeds the same way; dates compared as dates
(a CLM null equals SCM's blank date ``1900-01-01``); decimals compared as numbers. Raw text that
differs only by that normalisation is listed as noise.

``generate`` plants a world whose ground truth must equal this function's result (the tests check
it), and ``mutate`` uses it to write the ground truth of the next run from the store as it is,
which is how entries whose action was applied drop out.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from emulator.world import oracle_docs, oracle_vendors
from emulator.world.truth import COLUMNS


@dataclass(frozen=True)
class Sources:
    """Where the oracle reads from: schema names of SCM, CLM and seeds, the link table."""

    scm: str
    clm: str
    seeds: str
    links: str

    def s(self, entity: str) -> str:
        return f'{self.scm}."{entity}"'

    def c(self, table: str) -> str:
        return f"{self.clm}.{table}"


MACROS = r"""
CREATE OR REPLACE TEMP MACRO o_txt(x) AS
  lower(trim(regexp_replace(nfc_normalize(coalesce(x, '')), '\s+', ' ', 'g')));
CREATE OR REPLACE TEMP MACRO o_tax(x) AS
  upper(regexp_replace(coalesce(x, ''), '[^0-9A-Za-z]', '', 'g'));
CREATE OR REPLACE TEMP MACRO o_date(x) AS TRY_CAST(substr(x, 1, 10) AS DATE);
CREATE OR REPLACE TEMP MACRO o_blank(d) AS
  CASE WHEN d = DATE '1900-01-01' THEN NULL ELSE d END;
CREATE OR REPLACE TEMP MACRO o_ymd(d) AS strftime(d, '%Y-%m-%d');
CREATE OR REPLACE TEMP MACRO o_dec(x) AS
  CASE WHEN contains(CAST(x AS VARCHAR), '.')
       THEN rtrim(rtrim(CAST(x AS VARCHAR), '0'), '.') ELSE CAST(x AS VARCHAR) END;
CREATE OR REPLACE TEMP MACRO o_noise(clm, ref) AS
  CASE WHEN nfc_normalize(clm) = ref THEN 'noise_unicode_normalization'
       WHEN trim(regexp_replace(clm, '\s+', ' ', 'g')) = ref THEN 'noise_whitespace'
       ELSE 'noise_case' END;
"""


def _maps(con: duckdb.DuckDBPyConnection, src: Sources) -> None:
    """``o_map``: every seed code, normalised, with its SCM value (domain, k, code, scm)."""
    parts = []
    for domain, table, clm, scm in (
        ("bu", "clm_business_units", "clm_business_unit", "legal_entity"),
        ("pt", "clm_payment_terms", "clm_payment_terms", "scm_payment_terms"),
        ("unit", "clm_units", "clm_unit", "scm_unit"),
        ("cur", "clm_currencies", "clm_currency", "scm_currency"),
        ("country", "clm_countries", "clm_country", "scm_country"),
        ("ctype", "clm_contract_types", "clm_contract_type", "scm_contract_type"),
        ("cstatus", "clm_contract_statuses", "clm_status", "scm_status"),
        ("astatus", "clm_agreement_statuses", "clm_status", "scm_status"),
    ):
        parts.append(
            f"SELECT DISTINCT '{domain}' AS domain, o_txt({clm}) AS k, {scm} AS scm "
            f"FROM {src.seeds}.seed_{table}"
        )
    con.execute("CREATE OR REPLACE TEMP TABLE o_map AS " + " UNION ALL ".join(parts))
    ambiguous = con.execute(
        "SELECT domain, k FROM o_map GROUP BY domain, k HAVING count(DISTINCT scm) > 1"
    ).fetchall()
    if ambiguous:
        raise ValueError(f"seed codes map to several SCM values once normalised: {ambiguous}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE o_exact AS SELECT DISTINCT domain, code FROM ("
        + " UNION ALL ".join(
            f"SELECT '{d}' AS domain, {c} AS code FROM {src.seeds}.seed_{t}"
            for d, t, c in (
                ("pt", "clm_payment_terms", "clm_payment_terms"),
                ("unit", "clm_units", "clm_unit"),
                ("cur", "clm_currencies", "clm_currency"),
                ("country", "clm_countries", "clm_country"),
                ("cstatus", "clm_contract_statuses", "clm_status"),
                ("astatus", "clm_agreement_statuses", "clm_status"),
            )
        )
        + ")"
    )


def reconcile(con: duckdb.DuckDBPyConnection, src: Sources) -> None:
    """Fill temp tables ``o_gt`` and ``o_noise`` (columns of ``truth.COLUMNS``)."""
    for statement in MACROS.split(";"):
        if statement.strip():
            con.execute(statement)
    _maps(con, src)
    gt: list[str] = []
    noise: list[str] = []
    oracle_vendors.build(con, src, gt, noise)
    oracle_docs.build(con, src, gt, noise)
    cols = ", ".join(COLUMNS)
    for table, parts in (("o_gt", gt), ("o_noise", noise)):
        union = " UNION ALL ".join(parts)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM ({union}) t({cols})")
