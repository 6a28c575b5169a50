"""What a failed request means, in one line, and how long a server asked us to wait.

Read by the spiders (a source or an article could not be fetched), the retry middleware
(``Retry-After``) and the run's recorder; none of them owns it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from twisted.python.failure import Failure

from crawler import settings

_FAILURE_NAMES = {
    "DownloadTimeoutError": "timed out",
    "TimeoutError": "timed out",
    "DownloadCancelledError": "too large",
    "ResponseDataLossError": "response cut short (body shorter than its Content-Length)",
    "ResponseNeverReceived": "connection closed before any response",
    "ConnectionLost": "connection lost",
    "ConnectionRefusedError": "connection refused",
    "DownloadConnectionRefusedError": "connection refused",
    "CannotResolveHostError": "host name not found",
    "DNSLookupError": "host name not found",
    "PrivateAddressRefused": "",
    "IgnoreRequest": "",
}


_TWISTED_ERROR = re.compile(r"twisted\.\w+\.error\.(\w+): ([^>\]]*)")


def describe_failure(failure: Failure) -> str:
    """One line saying why a request failed, for the run log and the summary."""
    exc = failure.value
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status} from {response.url}"
    name = type(exc).__name__
    lines = str(exc).strip().splitlines()
    text = " ".join(lines[0].split())[:300] if lines else ""
    request = getattr(failure, "request", None)
    url = request.url if request is not None else "?"
    inner = _TWISTED_ERROR.search(text)
    if name == "DownloadFailedError" and inner:
        name, text = inner.group(1), inner.group(2).strip()
    if name == "IgnoreRequest" and "max redirections" in text:
        return f"too many redirects (more than {settings.REDIRECT_MAX_TIMES}), last {url}"
    if name == "IgnoreRequest" and "DOWNLOAD_MAXSIZE" in text:
        return f"too large when decompressed ({url}): {text}"
    friendly = _FAILURE_NAMES.get(name)
    if friendly is not None:
        where = f" ({url})" if friendly else ""
        if name in ("ResponseNeverReceived", "ConnectionLost", "ResponseDataLossError"):
            return f"{friendly}{where}"
        detail = f": {text}" if text else ""
        return f"{friendly}{where}{detail}" if friendly else text or name
    return f"{name}: {text}" if text else name


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
