"""Writing a command's output to a path the user named, without harming what is already there.

What happens depends on what the path is, decided with ``lstat`` (the path itself, not what a
link points to):

- nothing, or a regular file: replaced atomically. The text goes to a temporary file in the
  same directory, created exclusively (``O_CREAT|O_EXCL|O_NOFOLLOW``) under a random name, so a
  planted ``PATH.part`` symlink or a guessed name can never redirect the write; it is synced and
  renamed over the path only when complete, so a failed export leaves the old file whole. A
  replaced file keeps its permission bits (a 0600 file stays 0600) and, where allowed, its owner.
- a character device (``/dev/null``, a terminal) or a FIFO: written through in place, since
  replacing it would turn a device into a regular file; a symlink likewise (``/dev/stdout`` is
  one): the link stays and what it points to is written, as the shell's ``>`` does. A dangling
  link is refused, so a link can never make us create a file somewhere else.
- anything else (a directory, a block device, a socket, a link to one): refused with one line.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

T = TypeVar("T")

_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_TRIES = 8


class OutputRefused(ValueError):
    """The output path is something we will not write to; the message is one line."""


def write_output(path: str | os.PathLike[str], write: Callable[[TextIO], T]) -> T:
    """Call ``write`` with a UTF-8 text stream whose content ends up at ``path``; returns its
    result. Raises :class:`OutputRefused` for a path of the wrong kind, ``OSError`` when the
    writing fails (the temporary file is gone by then)."""
    target = Path(path)
    try:
        found = os.lstat(target)
    except FileNotFoundError:
        found = None
    if found is None or stat.S_ISREG(found.st_mode):
        return _replace(target, write, found)
    if stat.S_ISLNK(found.st_mode) or stat.S_ISCHR(found.st_mode) or stat.S_ISFIFO(found.st_mode):
        return _write_through(target, write)
    raise OutputRefused(f"cannot write {target}: it is {_kind(found.st_mode)}; name a file")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _write_through(target: Path, write: Callable[[TextIO], T]) -> T:
    """Write into what ``target`` is (or points to) in place; never creates anything."""
    try:
        pointed = os.stat(target)
    except FileNotFoundError:
        raise OutputRefused(
            f"cannot write {target}: it is a symlink to nothing; name a file"
        ) from None
    mode = pointed.st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise OutputRefused(f"cannot write {target}: it leads to {_kind(mode)}; name a file")
    flags = os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC | (os.O_TRUNC if stat.S_ISREG(mode) else 0)
    fd = os.open(target, flags)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
        return write(stream)


def _create_temporary(directory: Path, name: str) -> tuple[Path, int]:
    """A new file beside the target, created exclusively under a name nobody could plant."""
    for _ in range(_TRIES):
        candidate = directory / f".{name}.{secrets.token_hex(8)}.part"
        try:
            return candidate, os.open(candidate, _CREATE_FLAGS, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def _replace(target: Path, write: Callable[[TextIO], T], old: os.stat_result | None) -> T:
    temporary, fd = _create_temporary(target.absolute().parent, target.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            if old is not None:
                os.fchmod(fd, stat.S_IMODE(old.st_mode))
                with contextlib.suppress(PermissionError):
                    os.fchown(fd, old.st_uid, old.st_gid)
            result = write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(temporary.parent)
    return result


def _sync_directory(directory: Path) -> None:
    """Make the rename durable; some file systems cannot sync a directory, which is harmless."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
