"""Everything about DuckDB: connection, landing, run state, the model runner, snapshots."""
