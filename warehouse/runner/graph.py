"""The model graph: references resolved, cycles refused, build order, dbt-style selection.

Selectors (any number; their union is selected, then ``exclude`` is taken away):

- ``stg_scm__vendors`` or ``staging.stg_scm__vendors``: one model;
- ``reports``: every model of a layer;
- ``staging/scm`` (or ``models/staging/scm``, or a ``.sql`` path): every model in a folder;
- ``+x``: x and everything it depends on; ``x+``: x and everything that depends on it;
  ``+x+``: both. ``x`` is any of the above.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from connectors.errors import ModelError
from warehouse import relations
from warehouse.runner.project import CHANGES_SCHEMA, Model, Project, layer_rank


@dataclass(frozen=True)
class Graph:
    """Models by relation, their model parents and children, and a build order."""

    project: Project
    models: dict[str, Model]
    parents: dict[str, frozenset[str]]  # relation -> model relations it reads (not itself)
    children: dict[str, frozenset[str]]
    order: tuple[str, ...]
    # changes.<name> -> the relation of the incremental model whose changes it holds
    changes: dict[str, str] = field(default_factory=dict)

    def ancestors(self, relation: str) -> set[str]:
        return _walk(relation, self.parents)

    def descendants(self, relation: str) -> set[str]:
        return _walk(relation, self.children)

    def feeds_of(self, relation: str) -> list[str]:
        """The models whose changes the model reads (``changes.<name>``), by relation."""
        return sorted(self.changes[r] for r in self.models[relation].refs if r in self.changes)

    @property
    def fed(self) -> frozenset[str]:
        """The models some model reads the changes of: their builds keep them."""
        return frozenset(self.changes.values())


def _walk(start: str, edges: dict[str, frozenset[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(edges.get(start, ()))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    return seen


def resolve(project: Project, known: Iterable[str]) -> Graph:
    """Check every reference and order the models.

    ``known``: lowercase ``schema.name`` of relations the warehouse holds. Models, seeds and the
    catalog's source relations (``raw_*``, ``current_*``, created before a build) are known
    already. A reference to nothing, or a cycle, raises :class:`ModelError` naming the files.
    """
    models = {m.relation: m for m in project.models}
    by_name = {m.name: m for m in project.models}
    changes: dict[str, str] = {}
    outside = set(known) | set(project.seed_relations) | relations.source_relation_names()
    missing: list[str] = []
    files: list[str] = []
    parents: dict[str, frozenset[str]] = {}
    for rel, model in models.items():
        ups: set[str] = set()
        for ref in sorted(model.refs):
            if ref == rel:
                continue  # an incremental model reading its previous state
            if ref.startswith(CHANGES_SCHEMA + "."):
                producer = by_name.get(ref.removeprefix(CHANGES_SCHEMA + "."))
                problem = _feed_problem(model, producer)
                if producer is None or problem:
                    missing.append(f"{model.file}: reads {ref}, but {problem}")
                    files.append(model.file)
                else:
                    changes[ref] = producer.relation
                    ups.add(producer.relation)
            elif ref in models:
                ups.add(ref)
            elif ref not in outside:
                hint = (
                    " (qualify it with its schema, e.g. staging.<name>)"
                    if ref.startswith("main.")
                    else ""
                )
                missing.append(
                    f"{model.file}: refers to {ref}, which is not a model, a seed or a table "
                    f"in the warehouse{hint}"
                )
                files.append(model.file)
        parents[rel] = frozenset(ups)
    if missing:
        raise ModelError("; ".join(missing), files=sorted(set(files)))
    children: dict[str, set[str]] = {rel: set() for rel in models}
    for rel, model_parents in parents.items():
        for up in model_parents:
            children[up].add(rel)
    frozen_children = {k: frozenset(v) for k, v in children.items()}
    order = _topological(models, parents, frozen_children)
    return Graph(project, models, parents, frozen_children, order, changes)


def _feed_problem(reader: Model, producer: Model | None) -> str | None:
    """Why ``reader`` may not read the changes of ``producer``, if it may not."""
    if producer is None:
        return "no model has that name"
    if producer.materialized != "incremental":
        return f"{producer.file} is not an incremental model (only they keep their changes)"
    if reader.strategy != "delete_insert":
        return (
            "only a delete_insert model may read changes (it is rebuilt in full when it missed "
            "some)"
        )
    return None


def _topological(
    models: dict[str, Model],
    parents: dict[str, frozenset[str]],
    children: dict[str, frozenset[str]],
) -> tuple[str, ...]:
    waiting = {rel: len(ups) for rel, ups in parents.items()}

    def key(rel: str) -> tuple[int, str]:
        return (layer_rank(models[rel].layer), rel)

    ready = [key(rel) for rel, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, rel = heapq.heappop(ready)
        order.append(rel)
        for child in children[rel]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, key(child))
    if len(order) < len(models):
        cycle = _find_cycle({r for r in models if r not in order}, parents)
        files = [models[r].file for r in cycle]
        raise ModelError(
            "models depend on each other in a cycle (each reads the next): "
            + " -> ".join(files + files[:1]),
            files=files,
        )
    return tuple(order)


def _find_cycle(nodes: set[str], parents: dict[str, frozenset[str]]) -> list[str]:
    """One cycle among ``nodes`` (every one of which is on or behind a cycle)."""
    start = min(nodes)
    path: list[str] = []
    index: dict[str, int] = {}
    node = start
    while node not in index:
        index[node] = len(path)
        path.append(node)
        node = min(p for p in parents[node] if p in nodes)
    return path[index[node] :]


def select(graph: Graph, selectors: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Model]:
    """The selected models in build order (every model when no selector is given)."""
    chosen = set(graph.order) if not selectors else set()
    for sel in selectors:
        chosen |= _expand(graph, sel)
    for sel in exclude:
        chosen -= _expand(graph, sel)
    return [graph.models[rel] for rel in graph.order if rel in chosen]


def _expand(graph: Graph, selector: str) -> set[str]:
    text = selector.strip()
    up = text.startswith("+")
    down = text.endswith("+") and len(text) > 1
    base = text.strip("+")
    found = _base(graph, base)
    if not found:
        raise ModelError(f"selector {selector!r} matches no model, layer or folder")
    result = set(found)
    for rel in found:
        if up:
            result |= graph.ancestors(rel)
        if down:
            result |= graph.descendants(rel)
    return result


def _base(graph: Graph, base: str) -> set[str]:
    models = graph.models.values()
    name = base.lower()
    if "/" in base or base.endswith(".sql"):
        prefix = graph.project.models_dir.name + "/"
        path = base.removeprefix("./").removeprefix(prefix).rstrip("/")
        if path.endswith(".sql"):
            return {m.relation for m in models if f"{m.folder}/{m.path.name}" == path}
        return {m.relation for m in models if m.folder == path or m.folder.startswith(path + "/")}
    by_name = {m.relation for m in models if name in (m.name, m.relation)}
    if by_name:
        return by_name
    return {m.relation for m in models if m.layer == name}
