"""The JSON API under ``/api/v1/``: the CLI's reads over HTTP, with the export's field names."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["api"])
