"""One running ``newswatch crawl`` child of the daemon: its process, its sources and its output,
read as it comes."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field

ERROR_LINES_KEPT = 20


def hard_limit(run_timeout: float) -> float:
    """When a run is killed (by the daemon or a cluster worker): the child stops itself at
    ``run_timeout`` (Scrapy's CLOSESPIDER_TIMEOUT); the margin covers interpreter start-up and
    a slow close."""
    return run_timeout + min(30.0, max(5.0, run_timeout / 2))


@dataclass
class Child:
    """One running ``newswatch crawl`` child and the sources it crawls."""

    proc: subprocess.Popen
    sources: list[str]
    started: float
    deadline: float
    terminated_at: float | None = None
    outcome: str | None = None
    output: list[str] = field(default_factory=list)
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=ERROR_LINES_KEPT))
    readers: list[threading.Thread] = field(default_factory=list)

    def start_readers(self) -> None:
        """Read the child's output as it comes: a summary larger than the pipe's buffer (64 KiB,
        about 200 sources) would otherwise block the finished child until its time limit. Its
        stderr is passed on to ours, the last lines kept to explain an exit without a result."""
        self.readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            self.output.extend(iter(self.proc.stdout.readline, ""))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        with self.proc.stderr:
            for line in iter(self.proc.stderr.readline, ""):
                self.errors.append(line.rstrip("\n"))
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.write(line)
                    sys.stderr.flush()

    def collected(self) -> str:
        """Everything the child printed on stdout (waits for the readers: it has exited)."""
        for reader in self.readers:
            reader.join(10)
        return "".join(self.output)

    def error_line(self) -> str | None:
        """The child's own one-line error (``newswatch: config error: …``), if it printed one."""
        for line in reversed(self.errors):
            if line.startswith("newswatch: "):
                return line.removeprefix("newswatch: ")
        return None
