"""``newswatch serve``: the web app and JSON API (:mod:`scheduler.web`) under uvicorn."""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Iterator
from typing import Annotated

import typer

from crawler import settings
from crawler.config import load_config
from scheduler.cli.common import (
    ConfigOpt,
    DbOpt,
    LogOpt,
    UsageError,
    db_url,
    friendly_errors,
    setup_logging,
    stderr,
)
from scheduler.webchild import is_loopback

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def serve_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = DEFAULT_PORT,
    log_level: LogOpt = None,
) -> None:
    """Serve the web app and the JSON API (read-only) until SIGTERM or Ctrl-C.

    Beyond loopback it needs NEWSWATCH_WEB_TOKEN; every request must then carry it.
    """
    with friendly_errors():
        setup_logging(log_level)
        url = db_url(db)
        cfg_path = load_config(config).path
        token = settings.env(settings.ENV_WEB_TOKEN)
        if not is_loopback(host) and not token:
            raise UsageError(
                f"--host {host} listens beyond this machine: set NEWSWATCH_WEB_TOKEN first"
            )
        sock = bind(host, port)
    run_server(sock, host, port, url, cfg_path, token)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts so a port in use is one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every response waited ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but SIGTERM/SIGINT end it with exit code 0: uvicorn re-raises the
        signal after shutting down, which reads as a crash to a supervisor."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            def stop(signum: int, frame: object) -> None:
                self.force_exit = self.should_exit
                self.should_exit = True

            old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in old.items():
                    signal.signal(sig, handler)

    return Server


def run_server(sock: socket.socket, host: str, port: int, url: str, cfg_path, token) -> None:
    """Run uvicorn on ``sock``; its own signal handling stops it cleanly on SIGTERM/SIGINT."""
    import uvicorn

    from scheduler.web import WebSettings, create_app

    app = create_app(WebSettings(db_url=url, config_path=cfg_path, token=token))
    shown = f"[{host}]" if ":" in host else host
    print(f"newswatch: web app at http://{shown}:{port}/", flush=True)
    if token:
        print("newswatch: a token is required (NEWSWATCH_WEB_TOKEN)", flush=True)
    config = uvicorn.Config(
        app,
        access_log=False,
        log_config=None,
        log_level=logging.getLogger().getEffectiveLevel(),
        lifespan="off",
        server_header=False,
    )
    try:
        _server_class()(config).run(sockets=[sock])
    finally:
        sock.close()
    stderr.print("newswatch: web app stopped")
