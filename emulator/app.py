"""The emulator's ASGI application: SCM, Entra ID, blob storage, CLM and admin on one port."""

from __future__ import annotations

from fastapi import FastAPI

from emulator import admin, blob, clm_api, entra, odata
from emulator.faults import FaultMiddleware
from emulator.state import EmulatorState
from emulator.world import admin as world_admin


def create_app(state: EmulatorState) -> FastAPI:
    """A FastAPI app serving ``state`` (see spec §2 for the URL layout)."""
    app = FastAPI(title="clmsync emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = state
    app.include_router(admin.router(state))
    app.include_router(odata.router(state))
    app.include_router(blob.router(state))
    app.include_router(clm_api.router(state))
    app.include_router(world_admin.router(state))
    # Entra ID's routes start with a path parameter (the tenant), so they go last.
    app.include_router(entra.router(state))
    app.add_middleware(FaultMiddleware, state=state)
    return app
