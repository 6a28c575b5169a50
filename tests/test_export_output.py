"""Issue 17 §3: ``export --output`` replaces only a regular file (or a new path), atomically and
keeping its mode; it writes through a device, a FIFO or a symlink in place, refuses what it cannot
write with one line, and its temporary file can never be redirected by a planted name.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.pipeline.process import process_page
from storage.db import dispose_engines
from storage.outfile import OutputRefused, write_output
from storage.store import Store
from tests.support.hostile import cli
from tests.test_analysis import OFF_TOPIC, SEED, SEED_URL, _page, _source


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("export_output") / "news.sqlite"
    dispose_engines()
    seed = SEED.read_text(encoding="utf-8").replace("{{BASE}}", "https://tribuna.example")
    Store(f"sqlite:///{path}").store(
        [
            process_page(_page(SEED_URL, seed), _source()),
            process_page(_page("https://tribuna.example/yaquis/", OFF_TOPIC), _source()),
        ]
    )
    dispose_engines()
    yield path


def _export(db: Path, output: Path | str, fmt: str = "jsonl"):
    return cli("export", "--db", str(db), "--format", fmt, "--output", str(output))


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def test_a_0600_file_is_replaced_atomically_and_stays_0600(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    out.chmod(0o600)
    inode = out.stat().st_ino
    result = _export(db, out)
    assert result.returncode == 0, result.stderr
    assert "wrote 2 articles" in result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.stat().st_ino != inode
    assert [json.loads(line)["url"] for line in out.read_text().splitlines()]
    assert _leftovers(tmp_path) == []


def test_a_planted_part_symlink_is_never_followed(db: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.part").symlink_to(victim)
    result = _export(db, out)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "out.jsonl.part").is_symlink()
    assert out.is_file() and not out.is_symlink() and len(out.read_text().splitlines()) == 2


def test_table_format_writes_the_file(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "table.txt"
    result = _export(db, out, "table")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert "Yaquis vencen a Naranjeros" in text and "published" in text
    assert "\x1b[" not in text


def test_a_fifo_is_written_through_not_replaced(db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = _export(db, fifo)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert len(received[0].decode().splitlines()) == 2


def test_a_symlink_stays_a_link_and_its_target_is_written(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    result = _export(db, link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(target.read_text().splitlines()) == 2


def test_dev_null_stays_a_device(db: Path) -> None:
    result = _export(db, "/dev/null")
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_device_is_one_line(db: Path) -> None:
    result = _export(db, "/dev/full")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "newswatch: error: cannot write /dev/full: No space left on device"
    ]
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


def test_a_dangling_symlink_or_a_socket_is_refused_with_one_line(db: Path, tmp_path: Path) -> None:
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere" / "x")
    result = _export(db, dangling)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"newswatch: error: cannot write {dangling}: it is a symlink to nothing; name a file"
    ]
    assert not (tmp_path / "nowhere").exists()
    import socket

    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(OutputRefused, match="it is a socket"):
            write_output(sock_path, lambda fh: fh.write("x"))


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old\n")

    def fail(stream) -> None:
        stream.write("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_output(out, fail)
    assert out.read_text() == "old\n"
    assert _leftovers(tmp_path) == []
    assert write_output(tmp_path / "new.txt", lambda fh: fh.write("ñandú\n")) == 6
    assert (tmp_path / "new.txt").read_text(encoding="utf-8") == "ñandú\n"
