"""The world's admin endpoints under ``/_emulator`` (header ``X-Emulator-Admin``).

``POST /mutate`` ``{"fraction": F, "seed": S}`` mutates the loaded world and writes the next
ground truth to ``<state dir>/ground_truth.json``; ``GET /ground_truth`` returns that file
(``?refresh=true`` first recomputes it from the store as it is, e.g. after a push);
``POST /clm_export`` ``{"out": DIR, "since": ISO 8601 | null}`` writes a CLM export folder.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from emulator.world import export, mutation
from emulator.world.clm_json import parse_instant

if TYPE_CHECKING:
    from emulator.state import EmulatorState


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def router(state: EmulatorState) -> APIRouter:
    api = APIRouter(prefix="/_emulator")
    truth = state.state_dir / "ground_truth.json"

    def refused(request: Request) -> Response | None:
        given = request.headers.get("x-emulator-admin", "")
        if hmac.compare_digest(given.encode(), state.identity.admin_token.encode()):
            return None
        return _json({"error": "the X-Emulator-Admin header must carry the admin token"}, 401)

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = orjson.loads(raw) if raw else {}
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def no_world() -> Response | None:
        if state.world_dir is None:
            return _json({"error": "no world is loaded (start with --size or --world-dir)"}, 409)
        return None

    @api.post("/mutate")
    async def mutate_world(request: Request) -> Response:
        if (denied := refused(request) or no_world()) is not None:
            return denied
        try:
            spec = await body(request)
            unknown = sorted(set(spec) - {"fraction", "seed"})
            if unknown:
                raise ValueError(f"unknown field(s) {unknown}; known: fraction, seed")
            fraction = float(spec.get("fraction", 0.01))
            seed = int(spec.get("seed", 0))
            path, result = mutation.mutate_with_result(state.store, fraction, seed, out=truth)
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json(
            {
                "ground_truth": str(path),
                "mutation": result.number,
                "counts": result.counts,
                "discrepancies": result.discrepancies,
                "noise": result.noise,
            }
        )

    @api.get("/ground_truth")
    def ground_truth(request: Request, refresh: bool = False) -> Response:
        if (denied := refused(request) or no_world()) is not None:
            return denied
        if refresh or not truth.is_file():
            mutation.refresh_ground_truth(state.store, truth)
        return Response(truth.read_bytes(), 200, media_type="application/json")

    @api.post("/clm_export")
    async def clm_export(request: Request) -> Response:
        if (denied := refused(request) or no_world()) is not None:
            return denied
        try:
            spec = await body(request)
            out = spec.get("out")
            if not isinstance(out, str) or not out:
                raise ValueError("out (a folder path) is required")
            since = parse_instant(spec["since"]) if spec.get("since") else None
            con = state.store.reader()
            folder = export.export_clm(con, Path(out), since)
        except (ValueError, TypeError, OSError, orjson.JSONDecodeError) as exc:
            return _json({"error": str(exc)}, 400)
        manifest = orjson.loads((folder / "manifest.json").read_bytes())
        return _json({"folder": str(folder), "manifest": manifest}, 201)

    return api
