"""The web app and JSON API (``newswatch serve``, ``newswatch daemon --web``).

FastAPI serves server-rendered pages (Jinja2 templates, htmx for results as you type) and a
read-only JSON API under ``/api/v1/`` whose records use the export's field names. Every asset
ships in the package (``static/``), so the app works offline. Modules: :mod:`~scheduler.web.app`
(the application factory and its settings), :mod:`~scheduler.web.api` (the JSON API),
:mod:`~scheduler.web.pages` (the HTML pages), :mod:`~scheduler.web.security` (token, CSP,
headers).
"""

from scheduler.web.app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
