"""The model runner: plain SQL models built in dependency order, tested, documented.

Typical use (what ``clmsync models build`` and ``clmsync models test`` do)::

    project = load_project(models_dir, seeds_dir)
    build(con, project, selectors=["+reports"], run_id=run_id)
    run_tests(con, project, selectors=["+reports"], run_id=run_id)  # raises ModelTestFailed

See ``project`` for the model files and their header, ``properties`` for the YAML files,
``graph`` for the selection syntax.
"""

from __future__ import annotations

from pathlib import Path

from warehouse.runner.build import (
    ModelResult,
    build,
    materialize,
    model_storage,
    plan,
    raise_failed_builds,
)
from warehouse.runner.checks import TestResult, failing_rows_sql, run_tests
from warehouse.runner.docs import DocsResult, write_docs
from warehouse.runner.graph import Graph, resolve, select
from warehouse.runner.project import Model, Project, load_project
from warehouse.runner.seeds import SeedResult, load_seeds

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODELS_DIR = REPO_ROOT / "models"
DEFAULT_SEEDS_DIR = REPO_ROOT / "data" / "seeds"

__all__ = [
    "DEFAULT_MODELS_DIR",
    "DEFAULT_SEEDS_DIR",
    "DocsResult",
    "Graph",
    "Model",
    "ModelResult",
    "Project",
    "SeedResult",
    "TestResult",
    "build",
    "failing_rows_sql",
    "load_project",
    "load_seeds",
    "materialize",
    "model_storage",
    "plan",
    "raise_failed_builds",
    "resolve",
    "run_tests",
    "select",
    "write_docs",
]
