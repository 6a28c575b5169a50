"""Who may read, and what a browser may run: the access token and the security headers."""

from __future__ import annotations
