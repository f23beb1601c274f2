"""The FastAPI application, built per settings by `create_app`."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from .. import __version__
from ..config import Settings, load_settings
from ..engine import Engine
from ..mcp.http import PATH as MCP_PATH
from ..mcp.http import McpDoor
from ..shared import state_for
from ..web import install as install_web
from . import errors, metrics, openai, openapi, responses, ws
from .limits import BodyLimit, Buckets, RateLimit
from .requests import RequestId
from .routes import (
    admin,
    agents,
    analytics,
    ask,
    auth,
    conversations,
    emotions,
    entities,
    health,
    imports,
    memories,
    search,
)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or load_settings()
    engine = engine or Engine.from_settings(settings)
    mcp = McpDoor(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await engine.start()
        try:
            async with mcp.run():
                yield
        finally:
            await engine.stop()

    app = FastAPI(title="memlane", version=__version__, lifespan=lifespan,
                  description="A local-first memory server: remember, search, answer.")
    app.state.engine = engine
    errors.install(app)
    openapi.install(app)
    for module in (health, auth, admin, agents, memories, search, entities, ask, conversations,
                   emotions, analytics, imports):
        app.include_router(module.router, prefix="/api")
    app.include_router(openai.router, prefix="/v1")
    app.include_router(responses.router, prefix="/v1")
    app.include_router(ws.router)
    app.include_router(metrics.router)
    app.router.add_route(MCP_PATH, mcp, include_in_schema=False)
    install_web(app, settings)
    app.state.metrics = metrics.Metrics()
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       wider={"/api/import": settings.max_import_bytes})
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["*"], allow_headers=["*"],
                           expose_headers=["X-Request-ID", "Retry-After"])
    if settings.auth_enabled:  # per key; single-user mode has none
        shared = state_for(engine.store)  # in memory, or the store's when replicas share it
        app.state.buckets = Buckets(settings.rate_limit_per_minute, state=shared)
        app.add_middleware(RateLimit, buckets=app.state.buckets,
                           failures=Buckets(settings.auth_failures_per_minute, state=shared,
                                            name="authfail"))
    app.add_middleware(metrics.Instrument, metrics=app.state.metrics)
    app.add_middleware(RequestId)
    return app
