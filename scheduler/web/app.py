"""The application factory: one FastAPI app per (database, sources file, token)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass(frozen=True)
class WebSettings:
    """What a running web app reads: the database, the sources file, and the access token.

    ``token`` is None only when the server listens on a loopback address (see
    :mod:`scheduler.web.security`).
    """

    db_url: str
    config_path: Path | None = None
    token: str | None = None


def create_app(web: WebSettings) -> FastAPI:
    """The app: JSON API under ``/api/v1``, OpenAPI docs at ``/api/docs``, pages at ``/``."""
    from scheduler.web import api, pages

    app = FastAPI(
        title="newswatch",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.web = web
    app.state.templates = Jinja2Templates(directory=TEMPLATES)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api.router, prefix="/api/v1")
    app.include_router(pages.router)
    return app
