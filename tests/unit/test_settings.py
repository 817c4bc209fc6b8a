from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import ConfigError
from flows.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "clmsync.example.toml"

MINIMAL = """
[scm]
environment_url = "https://scm.example.com/"
tenant_id = "t"
client_id = "c"
client_secret = "s3cr3t-value"
default_legal_entity = "usmf"
[clm]
api_url = "https://clm.example.com/api"
api_key = "clm-key-123"
[sync]
legal_entities = ["USMF"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clmsync.toml"
    path.write_text(text)
    return path


def test_example_config_is_valid() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.scm.environment_url == "https://contoso-prod.operations.dynamics.com"
    assert settings.scm.scope == "https://contoso-prod.operations.dynamics.com/.default"
    assert settings.sync.legal_entities == ["usmf", "demf"]


def test_minimal_config_gets_defaults_and_normalises(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL))
    assert settings.scm.environment_url == "https://scm.example.com"
    assert settings.sync.legal_entities == ["usmf"]
    assert "VendorsV2" in settings.sync.entities
    # Relative paths are resolved against the settings file's folder.
    assert settings.warehouse.path == tmp_path.resolve() / "data/warehouse.duckdb"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLMSYNC__SCM__CLIENT_SECRET", "from-env")
    monkeypatch.setenv("CLMSYNC__SYNC__ODATA_ROW_THRESHOLD", "7")
    settings = load_settings(write(tmp_path, MINIMAL))
    assert settings.scm.client_secret is not None
    assert settings.scm.client_secret.get_secret_value() == "from-env"
    assert settings.sync.odata_row_threshold == 7


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLMSYNC_CONFIG", str(write(tmp_path, MINIMAL)))
    assert load_settings().scm.client_id == "c"


@pytest.mark.parametrize(
    ("edit", "key", "problem"),
    [
        (lambda t: t.replace('client_id = "c"\n', ""), "scm.client_id", "missing"),
        (lambda t: t.replace("https://scm.example.com/", "http://scm"), "scm", "https://"),
        (lambda t: t.replace('["USMF"]', "[]"), "sync.legal_entities", "at least 1"),
        (lambda t: t + "\n[warehouse]\npathh = 'x'\n", "warehouse.pathh", "unknown setting"),
        (lambda t: t.replace('api_key = "clm-key-123"', ""), "clm", "api_key is required"),
        (lambda t: t + "\n[sync2]\n", "sync2", "unknown setting"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, edit, key: str, problem: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, edit(MINIMAL)))
    assert info.value.key == key
    assert problem in str(info.value)


def test_unknown_entity_in_scope_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'legal_entities = ["USMF"]', 'legal_entities = ["usmf"]\nentities = ["Vendors"]'
    )
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    assert info.value.key == "sync"
    assert "Vendors" in str(info.value)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, "[scm\nx=1"))
    assert "not valid TOML" in str(info.value)
    assert "clmsync.toml" in str(info.value)


def test_masked_hides_every_secret(tmp_path: Path) -> None:
    masked = load_settings(write(tmp_path, MINIMAL)).masked()
    text = repr(masked)
    assert "s3cr3t-value" not in text
    assert "clm-key-123" not in text
    assert masked["scm"]["client_secret"] == "**********"
