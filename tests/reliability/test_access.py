"""Who may get in, seen from a whole run: TLS verification is on, and an application without
SCM's CLM integration role is told which permission it lacks.

Each run below starts against a fresh warehouse, fails at once with one message that says what
to fix, and builds nothing (no marts, no reports, no analytics snapshot). The connectors'
own tests check the same refusals one request at a time
(``tests/integration/connectors/test_scm_live.py``: the untrusted certificate naming
``scm.ca_bundle``, the missing role naming entity and role).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from pydantic import SecretStr

from flows.settings import Settings
from tests.reliability.harness import Bed, bed_settings, run

BUILT = "SELECT count(*) FROM duckdb_tables() WHERE schema_name IN ('marts', 'reports')"


def _nothing_built(settings: Settings) -> None:
    path = Path(settings.warehouse.path)
    if not path.exists():
        return
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute(BUILT).fetchall() == [(0,)]
    finally:
        con.close()
    assert not Path(settings.warehouse.analytics_path).exists()


def test_an_emulator_whose_ca_is_not_configured_is_refused(bed: Bed, tmp_path: Path) -> None:
    trusting = bed_settings(bed.info, tmp_path)
    settings = trusting.model_copy(
        update={
            "scm": trusting.scm.model_copy(update={"ca_bundle": None}),
            "clm": trusting.clm.model_copy(update={"ca_bundle": None}),
        }
    )
    report = run(settings)
    assert report.status == "failed"
    text = f"{report.error} {report.hint}"
    assert "certificate" in text.lower(), text
    assert "scm.ca_bundle" in text, text
    assert len(str(report.error).splitlines()) == 1
    _nothing_built(settings)


def test_an_app_without_the_clm_integration_role_is_told_the_missing_permission(
    bed: Bed, tmp_path: Path
) -> None:
    app = bed.info.register_app(name="no-clm-role", roles=["Data management administrator"])
    base = bed_settings(bed.info, tmp_path)
    settings = base.model_copy(
        update={
            "scm": base.scm.model_copy(
                update={
                    "client_id": app["client_id"],
                    "client_secret": SecretStr(app["client_secret"]),
                }
            )
        }
    )
    report = run(settings)
    assert report.status == "failed"
    text = f"{report.error} {report.hint}"
    assert "CLM integration" in text, text
    assert "does not have the security role 'CLM integration'" in text, text
    assert "Microsoft Entra ID applications" in text, text  # where to give it
    _nothing_built(settings)
