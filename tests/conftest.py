"""Test-wide environment: Prefect and the pipeline never touch the developer's own state."""

from __future__ import annotations

import os
import tempfile

# Set before anything imports Prefect: its settings are read once, at import.
_prefect_home = tempfile.mkdtemp(prefix="clmsync-prefect-")
os.environ["PREFECT_HOME"] = _prefect_home
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.pop("CLMSYNC_CONFIG", None)
for _name in list(os.environ):
    if _name.startswith("CLMSYNC__"):
        del os.environ[_name]
