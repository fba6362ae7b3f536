"""A result computed once per key and kept on disk: `memo(path, key, compute)` returns the JSON result
stored at `path` when it was stored with an equal `key`, else computes it, stores it (atomically) with
the key and returns it. The key holds whatever the result depends on (file fingerprints, settings, a
version), so a changed input means a recomputation, never a stale result; an unreadable or half-written
file is recomputed too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, TypeVar

from respgen.atomic import write_json

T = TypeVar("T")


def _as_is(value: Any) -> Any:
    return value


def memo(path: Path, key: dict, compute: Callable[[], Any], parse: Callable[[Any], T] = _as_is) -> T:
    """`compute()`'s JSON-ready result, stored at `path` under `key` (see the module doc), returned through
    `parse` as it reads back from JSON (tuples become lists), whether computed or read. A stored value that
    `parse` refuses (raises ValueError, e.g. a pydantic ValidationError: a string where a number belongs, a
    non-finite number) is a miss: recomputed and stored again."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored["key"] == key:
            return parse(stored["value"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    value = json.loads(json.dumps(compute()))
    write_json(path, {"key": key, "value": value})
    return parse(value)


def file_fingerprint(path: Path, root: Path | None = None) -> list:
    """[name, size, modification time in ns] of a file; the name relative to `root` when it lies under
    it (a workspace moved or copied with its times keeps its results), else its resolved path."""
    st = path.stat()
    return [_name(path, root), st.st_size, st.st_mtime_ns]


def dir_fingerprint(folder: Path, root: Path | None = None) -> list:
    """The folder's name (as `file_fingerprint`) and [name, size, mtime ns] of each file directly in it
    ([name] when it does not exist)."""
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    return [_name(folder, root), *([p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files)]


def _name(path: Path, root: Path | None) -> str:
    """`path` relative to `root` when under it (as given, else with links resolved), else resolved."""
    if root is not None:
        for p, r in ((path.absolute(), root.absolute()), (path.resolve(), root.resolve())):
            if p.is_relative_to(r):
                return p.relative_to(r).as_posix()
    return str(path.resolve())
