"""The web app: static files (plain JS modules and CSS, no build step) served at `/`."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from ..config import Settings

STATIC = Path(__file__).parent / "static"
API_PREFIXES = ("/api", "/v1", "/ws", "/mcp", "/metrics")


class WebFiles(StaticFiles):
    """The app's files for GET and HEAD; anything else, and any unknown API path, is a
    plain 404 as before the app was mounted."""

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or \
                path.startswith(API_PREFIXES):
            raise HTTPException(status_code=404)
        await super().__call__(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    """Mount last, so every API path keeps its own route."""

    @app.get("/web-config.json", include_in_schema=False)
    async def config() -> dict:  # whether to ask for sign-in before calling the API
        return {"auth_enabled": settings.auth_enabled}

    app.mount("/", WebFiles(directory=STATIC, html=True), name="web")
