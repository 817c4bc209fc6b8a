"""``clmsync models docs``: a static, browsable catalog of the models.

``index.html`` lists the models by layer with the whole lineage graph; one page per model under
``models/`` shows its description, columns (types when a warehouse is at hand), tests, parents and
children, its own lineage and its SQL. Plain HTML and inline SVG: it opens from disk, no server or
JavaScript needed.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.runner.checks import failing_rows_sql
from warehouse.runner.graph import Graph
from warehouse.runner.project import Model, layer_rank

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 70rem; }
a { color: #0b5cad; text-decoration: none; } a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
pre { background: #f7f7f7; padding: 1rem; overflow-x: auto; }
.muted { color: #777; } svg { border: 1px solid #eee; background: #fcfcfc; }
"""
_COLORS = {
    "source": "#e8e8e8",
    "staging": "#dbeafe",
    "intermediate": "#e0e7ff",
    "marts": "#dcfce7",
    "reports": "#fef3c7",
    "deltas": "#fee2e2",
}
_BOX_W, _BOX_H, _GAP_X, _GAP_Y = 230, 24, 70, 10


@dataclass(frozen=True)
class DocsResult:
    out: Path
    pages: int


def write_docs(graph: Graph, out: Path, con: duckdb.DuckDBPyConnection | None = None) -> DocsResult:
    """Write the catalog to ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "models").mkdir(exist_ok=True)
    types = _column_types(con) if con is not None else {}
    models = sorted(graph.models.values(), key=lambda m: (layer_rank(m.layer), m.name))
    (out / "index.html").write_text(_index(graph, models), encoding="utf-8")
    for model in models:
        page = _model_page(graph, model, types.get(model.relation, {}))
        (out / "models" / f"{model.name}.html").write_text(page, encoding="utf-8")
    return DocsResult(out, len(models) + 1)


def _column_types(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    types: dict[str, dict[str, str]] = {}
    for schema, table, column, typ in con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns()"
    ).fetchall():
        types.setdefault(f"{schema}.{table}".lower(), {})[str(column).lower()] = str(typ)
    return types


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def _index(graph: Graph, models: list[Model]) -> str:
    parts = ["<h1>clmsync models</h1>", f"<p>{len(models)} models.</p>", "<h2>Lineage</h2>"]
    parts.append(_svg(graph, set(graph.models), prefix="models/"))
    layer = None
    for m in models:
        if m.layer != layer:
            if layer is not None:
                parts.append("</table>")
            layer = m.layer
            parts.append(f"<h2>{_e(layer)}</h2><table><tr><th>model</th><th>built as</th>")
            parts.append("<th>description</th></tr>")
        parts.append(
            f"<tr><td><a href='models/{_e(m.name)}.html'>{_e(m.name)}</a></td>"
            f"<td>{_e(m.materialized)}</td><td>{_e(m.description or '')}</td></tr>"
        )
    if layer is not None:
        parts.append("</table>")
    return _page("clmsync models", "\n".join(parts))


def _links(graph: Graph, relations: Iterable[str]) -> str:
    items = []
    for rel in sorted(relations):
        model = graph.models.get(rel)
        items.append(
            f"<a href='{_e(model.name)}.html'>{_e(rel)}</a>" if model else f"<code>{_e(rel)}</code>"
        )
    return ", ".join(items) or "<span class='muted'>none</span>"


def _model_page(graph: Graph, m: Model, types: dict[str, str]) -> str:
    rel = m.relation
    sources = sorted(
        r for r in m.refs if r not in graph.models and r not in graph.changes and r != rel
    )
    key = f", unique key <code>{_e(', '.join(m.unique_key))}</code>" if m.unique_key else ""
    parts = [
        "<p><a href='../index.html'>&larr; all models</a></p>",
        f"<h1>{_e(rel)}</h1>",
        f"<p>{_e(m.description or 'No description.')}</p>",
        f"<p class='muted'>{_e(m.file)} &middot; built as {_e(m.materialized)}{key}</p>",
        f"<p>Reads: {_links(graph, list(graph.parents[rel]) + sources)}</p>",
        f"<p>Read by: {_links(graph, graph.children[rel])}</p>",
        "<h2>Lineage</h2>",
        _svg(graph, {rel} | graph.ancestors(rel) | graph.descendants(rel), prefix="", focus=rel),
        "<h2>Columns</h2><table><tr><th>column</th><th>type</th><th>description</th>"
        "<th>tests</th></tr>",
    ]
    documented = {c.name.lower() for c in m.columns}
    rows = [(c.name, c.description or "", c.data_type) for c in m.columns]
    rows += [(name, "", None) for name in types if name not in documented]
    for name, desc, declared in rows:
        tests = [t.kind for t in m.tests if t.columns == (name,)]
        typ = types.get(name.lower()) or declared or ""
        parts.append(
            f"<tr><td><code>{_e(name)}</code></td><td>{_e(typ)}</td><td>{_e(desc)}</td>"
            f"<td>{_e(', '.join(tests))}</td></tr>"
        )
    parts.append("</table><h2>Tests</h2>")
    if m.tests:
        parts.append("<table><tr><th>test</th><th>kind</th><th>severity</th><th>query</th></tr>")
        for t in m.tests:
            parts.append(
                f"<tr><td>{_e(t.name)}</td><td>{_e(t.kind)}</td><td>{_e(t.severity)}</td>"
                f"<td><code>{_e(failing_rows_sql(m, t))}</code></td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p class='muted'>No tests.</p>")
    parts.append(f"<h2>SQL</h2><pre>{_e(m.sql)}</pre>")
    return _page(rel, "\n".join(parts))


def _svg(graph: Graph, nodes: set[str], *, prefix: str, focus: str | None = None) -> str:
    """Lineage as columns by depth: sources left, each model right of everything it reads."""
    refs: dict[str, set[str]] = {}
    for rel in nodes:
        model = graph.models[rel]
        # reading a model's changes (changes.<name>) is reading that model
        refs[rel] = {graph.changes.get(r, r) for r in model.refs if r != rel}
    all_nodes = set(nodes) | {r for rs in refs.values() for r in rs}
    depth: dict[str, int] = {}

    def level(node: str) -> int:
        if node not in depth:
            ups = refs.get(node, set()) if node in graph.models else set()
            depth[node] = 1 + max((level(u) for u in ups), default=-1)
        return depth[node]

    columns: dict[int, list[str]] = {}
    for node in sorted(all_nodes):
        columns.setdefault(level(node), []).append(node)
    pos: dict[str, tuple[int, int]] = {}
    for col, members in columns.items():
        for row, node in enumerate(members):
            pos[node] = (10 + col * (_BOX_W + _GAP_X), 10 + row * (_BOX_H + _GAP_Y))
    width = 20 + (max(columns) + 1) * (_BOX_W + _GAP_X) if columns else 40
    height = 20 + max((len(m) for m in columns.values()), default=1) * (_BOX_H + _GAP_Y)
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"]
    for child, ups in sorted(refs.items()):
        cx, cy = pos[child]
        for up in sorted(ups):
            px, py = pos[up]
            x1, y1, x2, y2 = px + _BOX_W, py + _BOX_H // 2, cx, cy + _BOX_H // 2
            mid = (x1 + x2) // 2
            out.append(
                f"<path d='M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}' fill='none' stroke='#999'/>"
            )
    for node, (x, y) in sorted(pos.items()):
        target = graph.models.get(node)
        color = _COLORS.get(target.layer if target else "source", "#eee")
        stroke = "#d97706' stroke-width='2" if node == focus else "#888"
        box = (
            f"<rect x='{x}' y='{y}' width='{_BOX_W}' height='{_BOX_H}' rx='4' fill='{color}' "
            f"stroke='{stroke}'/><text x='{x + 6}' y='{y + 16}' font-size='12' "
            f"font-family='monospace'>{_e(node[:32])}</text>"
        )
        if target:
            box = f"<a href='{prefix}{_e(target.name)}.html'>{box}</a>"
        out.append(box)
    out.append("</svg>")
    return "\n".join(out)
