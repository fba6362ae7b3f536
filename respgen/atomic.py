"""Atomic writes: files through a temporary sibling + rename; folders built in a staging folder of
their own and swapped in whole; `latest` pointers as symlinks replaced in one rename."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from respgen.errors import RespgenError


@contextmanager
def atomic_path(target: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success it replaces `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file normal permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(target: str | Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: str | Path, obj) -> None:
    write_text(target, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_jsonl(target: str | Path, rows: Iterable[dict]) -> None:
    write_text(target, "".join(json.dumps(r) + "\n" for r in rows))


def staging_dir_for(final: Path) -> Path:
    """A staging folder beside `final` that no other run uses (pid + random suffix)."""
    return final.with_name(f".{final.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def swap_in(staging: Path, final: Path) -> None:
    """Replace `final` by the finished `staging` folder. The old folder stays valid until the one
    rename that retires it; if putting the new one in place fails, the old one is put back. Leftovers
    of an earlier interrupted swap (a `.<name>.old-*` folder) never block this one."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    had_old = final.exists() or final.is_symlink()
    if had_old:
        os.rename(final, old)
    try:
        os.rename(staging, final)
    except OSError:
        if had_old:
            os.rename(old, final)  # roll back: the previous folder is whole again
        raise
    if had_old:
        shutil.rmtree(old, ignore_errors=True)
    for stale in final.parent.glob(f".{final.name}.old-*"):  # left by a run killed mid-swap
        shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def staged_dir(final: Path, replace: bool = True) -> Iterator[Path]:
    """Build a folder in private staging and move it to `final` when the block succeeds; on any
    failure the staging folder is removed and `final` is untouched. With `replace=False` an
    existing `final` is an error (FileExistsError) instead of being replaced."""
    staging = staging_dir_for(final)
    try:
        staging.mkdir(parents=True)
    except OSError as e:
        raise RespgenError(f"workdir is not writable: {e.strerror or e}", final.parent) from None
    try:
        yield staging
        if replace:
            swap_in(staging, final)
        elif final.exists() or final.is_symlink():
            raise FileExistsError(final)
        else:
            os.rename(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def point_latest(link: Path, target: Path) -> None:
    """Make `link` a relative symlink to `target`, replacing an older pointer in one rename. A real
    folder or file squatting on the pointer's name is an error, never replaced."""
    if link.exists() and not link.is_symlink():
        raise FileExistsError(f"{link} is not a pointer (a real file or folder has its name)")
    tmp = link.with_name(f".{link.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    tmp.symlink_to(os.path.relpath(target, link.parent), target_is_directory=target.is_dir())
    os.replace(tmp, link)


def read_latest(link: Path) -> Path | None:
    """The folder a `latest` pointer names, or None when there is no pointer."""
    return link.parent / os.readlink(link) if link.is_symlink() else None
