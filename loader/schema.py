"""The loader's operational tables: ``ops.push_plan`` (with its header ``ops.push_plans``) and
``ops.push_ledger``.

The plan is what a run intends to send, one row per change, written once and never changed after
routing; the ledger is what happened to each plan row, one row per plan row, updated in place as
the row moves ``pending`` → ``sent`` → ``succeeded`` | ``failed`` | ``skipped``. A row that is
``sent`` may or may not have been applied (its answer was lost in a crash or a timeout): the next
push resolves it before anything else, asking SCM rather than sending it again.

Neither table declares a primary key: DuckDB updates of keyed tables are many times slower, and
uniqueness of (run_id, seq) holds by construction (one plan per run, written in one statement).
"""

from __future__ import annotations

import duckdb

from warehouse.db import transaction

PLAN = "ops.push_plan"
PLANS = "ops.push_plans"
LEDGER = "ops.push_ledger"

TERMINAL = ("succeeded", "failed", "skipped")

_DDL = f"""
CREATE TABLE IF NOT EXISTS {PLANS} (  -- one row per plan, also when it has no rows
    run_id VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    route VARCHAR NOT NULL,
    threshold BIGINT NOT NULL,
    planned_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS {PLAN} (
    run_id VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    target VARCHAR NOT NULL,          -- scm | clm
    entity VARCHAR NOT NULL,          -- SCM entity set, or the CLM object (counterparty)
    legal_entity VARCHAR,
    action VARCHAR NOT NULL,          -- create | update | close
    kind VARCHAR,
    record_key VARCHAR NOT NULL,      -- SCM record key; for a create the CLM id
    clm_id VARCHAR,
    delta_id VARCHAR,
    keys JSON,                        -- SCM keys; for a create the natural key
    payload JSON,                     -- field -> value after
    before JSON,                      -- field -> value before (null for a create)
    idempotency_key VARCHAR NOT NULL,
    level INTEGER NOT NULL,           -- dependency order: contracts, agreements, lines, CLM
    operation VARCHAR NOT NULL,       -- POST | PATCH | DELETE | UPSERT
    channel VARCHAR NOT NULL,         -- odata | package | clm_api | clm_export | none
    batch_id VARCHAR,                 -- the package batch (execution) a row belongs to
    route_reason VARCHAR,
    route_threshold BIGINT,
    problem VARCHAR,                  -- why the delta cannot be sent as it is (then not sent)
    planned_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS {LEDGER} (
    run_id VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    idempotency_key VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    legal_entity VARCHAR,
    action VARCHAR NOT NULL,
    record_key VARCHAR NOT NULL,
    status VARCHAR NOT NULL,          -- pending | sent | succeeded | failed | skipped
    reason VARCHAR,                   -- why failed or skipped, in words
    channel VARCHAR,
    batch_id VARCHAR,                 -- OData request / changeset, or package batch
    execution_id VARCHAR,             -- the package import's execution id
    attempts INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    scm_message VARCHAR,              -- SCM's (or the CLM's) own words
    generated_keys JSON,              -- keys SCM assigned on create
    verify_status VARCHAR,            -- verified | drift | missing | unverifiable
    drift JSON,                       -- field -> (intended, actual)
    sent_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    verified_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``ops.push_plan`` and ``ops.push_ledger`` if they do not exist yet."""
    with transaction(con):
        con.execute("CREATE SCHEMA IF NOT EXISTS ops")
        con.execute(_DDL)
