"""Atomic writes: files through a temporary sibling + rename; folders built in a staging folder of
their own and swapped in whole; `latest` pointers as symlinks replaced in one rename."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
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


def rmtree(path: Path) -> None:
    """Remove a folder of ours, also where its files or folders were made read-only; never raises."""

    def retry(func, name, _exc) -> None:
        try:
            os.chmod(os.path.dirname(name) or ".", 0o700)
            if os.path.isdir(name) and not os.path.islink(name):
                os.chmod(name, 0o700)
            func(name)
        except OSError:
            pass

    if path.is_symlink():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, onexc=retry) if sys.version_info >= (3, 12) else shutil.rmtree(path, onerror=retry)


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
        rmtree(old)
    for stale in final.parent.glob(f".{final.name}.old*"):  # left by a run killed mid-swap (or respgen <= 0.2)
        if stale.is_dir() and not stale.is_symlink():
            rmtree(stale)


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
            try:
                swap_in(staging, final)
            except OSError as e:  # the previous folder is back in place (see swap_in)
                raise RespgenError(f"cannot replace {final.name}: {e.strerror or e}", final) from None
        elif final.exists() or final.is_symlink():
            raise FileExistsError(final)
        else:
            os.rename(staging, final)
    finally:
        rmtree(staging)


def check_pointer(link: Path) -> None:
    """A RespgenError when a real folder or file has the name of the pointer `link` (it is never
    replaced: it may hold a run someone named `latest` or copied there)."""
    if (link.exists() or link.is_symlink()) and not link.is_symlink():
        kind = "folder" if link.is_dir() else "file"
        raise RespgenError(
            f"{link.name} must be a pointer (symlink) to the newest run but a real {kind} has its name; "
            f"rename it (e.g. `mv {link} {link.with_name(link.name + '-moved')}`) and run again",
            link,
        )


def point_latest(link: Path, target: Path) -> None:
    """Make `link` a relative symlink to `target`, replacing an older pointer in one rename. A real
    folder or file squatting on the pointer's name is an error (see `check_pointer`), never replaced."""
    check_pointer(link)
    tmp = link.with_name(f".{link.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    tmp.symlink_to(os.path.relpath(target, link.parent), target_is_directory=target.is_dir())
    os.replace(tmp, link)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():  # called before this process stages anything: its own are from a failed earlier call
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: alive
        return True
    return True


def remove_stale_staging(root: Path) -> list[Path]:
    """Remove staging folders (`.<name>.partial-<pid>-<rand>`, and the fixed `.<name>.partial` of older
    versions) and retired folders (`.<name>.old-...`) of runs that are no longer alive, in the workspace
    `root`, `root/models` and `root/vocoder/checkpoints`. Call it holding the workspace lock. A run killed
    in the middle of a swap can leave `<name>` missing with its previous version retired: that one is put
    back first. Call it before this process stages anything. Returns what was removed."""
    removed = []
    for parent in (root, root / "models", root / "vocoder" / "checkpoints"):
        if not parent.is_dir():
            continue
        for kind in ("old", "partial"):
            entries = sorted(parent.glob(f".*.{kind}*"), key=lambda p: p.stat().st_mtime, reverse=True)
            for entry in entries:
                m = re.fullmatch(rf"\.(.+)\.{kind}(?:-(\d+)-[0-9a-f]+)?", entry.name)
                if m is None or not entry.is_dir() or entry.is_symlink():
                    continue
                if m.group(2) is not None and _pid_alive(int(m.group(2))):
                    continue
                final = parent / m.group(1)
                if kind == "old" and not (final.exists() or final.is_symlink()):
                    os.rename(entry, final)  # killed mid-swap: the previous folder is whole again
                    continue
                rmtree(entry)
                removed.append(entry)
    return removed


def read_latest(link: Path) -> Path | None:
    """The folder a `latest` pointer names, or None when there is no pointer."""
    return link.parent / os.readlink(link) if link.is_symlink() else None
