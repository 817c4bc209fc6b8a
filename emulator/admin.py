"""Admin endpoints under ``/_emulator`` (header ``X-Emulator-Admin: <admin token>``).

``/faults`` (GET, POST, DELETE; DELETE ``/faults/<id>``), ``/stats`` (GET; POST
``/stats/reset``), ``/config`` (GET, POST), ``/apps`` (GET, POST), ``/executions`` (GET),
``/reset`` (POST: reload the world), and the world part's ``/mutate`` and ``/ground_truth``.
"""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Body, Request
from starlette.responses import Response

if TYPE_CHECKING:
    from emulator.state import EmulatorState


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter(prefix="/_emulator")

    def refused(request: Request) -> Response | None:
        given = request.headers.get("x-emulator-admin", "")
        if hmac.compare_digest(given.encode(), state.identity.admin_token.encode()):
            return None
        return _json({"error": "the X-Emulator-Admin header must carry the admin token"}, 401)

    @api.get("/faults")
    def list_faults(request: Request) -> Response:
        return refused(request) or _json({"faults": state.faults.rules()})

    @api.post("/faults")
    def add_faults(request: Request, spec: Any = Body(...)) -> Response:  # noqa: B008
        if (denied := refused(request)) is not None:
            return denied
        specs = spec if isinstance(spec, list) else [spec]
        added = []
        try:
            for item in specs:
                if not isinstance(item, dict):
                    raise ValueError("a fault is a JSON object")
                if item.get("kind") == "token_invalidate":
                    # Token times are whole seconds: every token of this second goes too.
                    state.tokens_invalid_before = int(time.time()) + 1
                    added.append({"kind": "token_invalidate", "applied": True})
                    continue
                added.append(state.faults.add(item).public())
        except (TypeError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"faults": added}, 201)

    @api.delete("/faults")
    def clear_faults(request: Request) -> Response:
        return refused(request) or _json({"cleared": state.faults.clear()})

    @api.delete("/faults/{rule_id}")
    def clear_fault(rule_id: str, request: Request) -> Response:
        return refused(request) or _json({"cleared": state.faults.clear(rule_id)})

    @api.get("/stats")
    def stats(request: Request) -> Response:
        return refused(request) or _json(state.stats.snapshot())

    @api.post("/stats/reset")
    def reset_stats(request: Request) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        state.stats.reset()
        return _json(state.stats.snapshot())

    @api.get("/config")
    def get_config(request: Request) -> Response:
        return refused(request) or _json(state.options.public())

    @api.post("/config")
    def set_config(request: Request, changes: dict[str, Any] = Body(...)) -> Response:  # noqa: B008
        if (denied := refused(request)) is not None:
            return denied
        try:
            state.options.update(changes)
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        return _json(state.options.public())

    @api.get("/apps")
    def list_apps(request: Request) -> Response:
        return refused(request) or _json({"apps": [a.public() for a in state.apps.values()]})

    @api.post("/apps")
    def register_app(request: Request, spec: dict[str, Any] = Body(...)) -> Response:  # noqa: B008
        if (denied := refused(request)) is not None:
            return denied
        try:
            app = state.register_from(spec)
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        return _json({**app.public(), "client_secret": app.client_secret}, 201)

    @api.get("/executions")
    def executions(request: Request) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        return _json({"executions": state.dmf.summary()})

    @api.post("/reset")
    def reset(request: Request) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        state.dmf.reset()
        state.store.reset()
        loaded = state.store.load_world(state.world_dir) if state.world_dir else {}
        return _json({"loaded": loaded})

    return api
