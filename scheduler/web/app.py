"""The application factory: one FastAPI app per (database, sources file, token)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>newswatch API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/swagger/init.js"></script></body></html>
"""


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
    from scheduler.web import api, pages, security

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
    app.include_router(security.router)
    app.include_router(pages.router)
    app.add_middleware(security.Guard)
    api.install_error_handlers(app)

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the packaged files: no CDN, no inline script (the CSP allows none)."""
        return HTMLResponse(DOCS_PAGE)

    return app
