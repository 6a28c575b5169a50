"""Local targets for alert channels: an HTTP receiver for Apprise's ``json://`` and ``form://``
URLs (it logs every request and can be told to answer 500 for a while) and an SMTP server
(aiosmtpd) for ``mailto://``. Both listen on 127.0.0.1 and run in background threads."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class Receiver:
    """``received``: one dict per accepted request (path, and the JSON or form fields)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_next = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with owner.lock:
                    if owner.fail_next > 0:
                        owner.fail_next -= 1
                        self.send_response(500)
                        self.end_headers()
                        return
                    kind = self.headers.get("Content-Type", "")
                    if "json" in kind:
                        body = json.loads(raw or b"{}")
                    else:
                        body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                    owner.received.append({"path": self.path, **body})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "hook", scheme: str = "json") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MailSink:
    """An aiosmtpd server keeping every message; ``url(to)`` is the Apprise mailto URL."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Message] = []
        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:
                owner.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        with socket.socket() as probe:  # aiosmtpd cannot listen on port 0
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def url(self, to: str = "analyst@example.org") -> str:
        return f"mailto://127.0.0.1:{self.port}?to={to}&from=newswatch@example.org"

    def close(self) -> None:
        self.controller.stop()
