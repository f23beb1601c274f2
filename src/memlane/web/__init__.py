"""The web app: static files (plain JS modules and CSS, no build step). The page is served
at `/`, its files under `/app/`; neither counts against the rate limit."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles

from ..config import Settings

STATIC = Path(__file__).parent / "static"
PREFIX = "/app"


class Files(StaticFiles):
    """Revalidated on every load (a 304 when unchanged), so an upgrade is never half-seen."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def install(app: FastAPI, settings: Settings) -> None:
    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get(PREFIX + "/config.json", include_in_schema=False)
    async def config() -> dict:  # whether to ask for sign-in before calling the API
        return {"auth_enabled": settings.auth_enabled}

    app.mount(PREFIX, Files(directory=STATIC), name="web")
