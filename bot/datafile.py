"""Staff-edited YAML files (catalogs, wording) read again only when they change, and written one
writer at a time.

Actions, channels and the broadcaster read these on every message that needs them; a file is parsed
once per version (its modification time and size), so an edit applies at the next message without
a restart, and an unchanged file costs one `stat`.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")
Failure = Callable[[str], Exception]

_cache: dict[tuple[Path, Callable[..., Any]], tuple[tuple[int, int], Any]] = {}


def load_yaml_file(path: Path, parse: Callable[[Any, Path], T], failure: Failure) -> T:
    """`parse(<the file's YAML>, path)`, from the cache while the file is unchanged. A file that cannot
    be read or is not YAML raises `failure(<reason naming the file>)`; `parse` raises its own."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise failure(f"{path}: cannot read it ({exc.strerror})") from None
    stamp, key = (stat.st_mtime_ns, stat.st_size), (path.resolve(), parse)
    cached = _cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise failure(f"{path}: not valid YAML ({exc})") from None
    value = parse(raw, path)
    _cache[key] = (stamp, value)
    return value


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold the exclusive lock on `lock_file` (created if missing): every writer of the files it
    guards takes it, in every thread and every process (an flock per open file), so two writes that
    read, change and replace the same file never lose one another's change."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
