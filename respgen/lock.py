"""The workspace lock: one writing stage (prepare, vocoder train, synth, finetune, report) at a time per
workdir. An OS file lock (`flock`) on `<workdir>/.respgen.lock`, so a killed holder never blocks a later
run: the kernel drops its lock with the process. The file holds the holder's pid and stage for the
message a second writer gets; it is removed when the holder finishes. Readers (`classify`) take no lock.

Under torchrun / accelerate launch only the process of rank 0 takes the lock (the others write nothing
of their own). Without `fcntl` (Windows) the lock is a no-op: run one writer per workdir there."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from respgen.atomic import remove_stale_staging
from respgen.errors import RespgenError

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".respgen.lock"

_held: dict[str, list] = {}  # lock path -> [fd, depth]: re-entrant within a process (quickstart runs stages in one)

F = TypeVar("F", bound=Callable[..., Any])


def process_rank() -> int:
    """This process's rank under torchrun / accelerate launch (`RANK`; 0 alone or when unset or empty):
    the one reading of it, for the lock (only rank 0 takes it) and the CLI (only rank 0 reports)."""
    return int(os.environ.get("RANK", "0") or 0)


def holder(root: Path) -> str:
    """`pid N` (and its stage) from the lock file, as far as it can be read."""
    try:
        text = (root / LOCK_FILE).read_text(encoding="utf-8").split()
    except OSError:
        text = []
    if not text:
        return "pid unknown"
    return f"pid {text[0]}" + (f", {' '.join(text[1:])}" if len(text) > 1 else "")


@contextmanager
def workspace_lock(root: Path, stage: str) -> Iterator[None]:
    """Hold the lock of the workspace `root` for the block; a second writer gets a RespgenError
    (exit 2). On taking it, staging folders left by killed runs are removed."""
    if fcntl is None or process_rank() != 0:
        yield
        return
    root = Path(root)
    path = root / LOCK_FILE
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        key = str(path.resolve())
    except OSError as e:
        raise RespgenError(f"workdir is not writable: {e.strerror or e}", root) from None
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    fd = _acquire(path, root)
    _held[key] = [fd, 1]
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {stage}\n".encode())
        remove_stale_staging(root)
        yield
    finally:
        del _held[key]
        try:
            path.unlink()  # while still holding it: a waiter re-checks the inode (see _acquire)
        except OSError:
            pass
        os.close(fd)
        if created:  # a run that failed before writing anything leaves no empty workdir behind
            try:
                root.rmdir()
            except OSError:
                pass


def _acquire(path: Path, root: Path) -> int:
    """An fd of `path` holding its exclusive lock. The holder unlinks the file before it lets go, so a
    lock taken on a file no longer at `path` is dropped and taken again on the new file."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise RespgenError(f"workdir is not writable: {e.strerror or e}", root) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RespgenError(f"{root} is in use by another respgen process ({holder(root)})") from None
        except OSError:  # a file system without locks: go on unlocked rather than refuse to work
            return fd
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def locked(stage: str) -> Callable[[F], F]:
    """Decorate a service `fn(cfg, ...)` so that it runs holding the lock of `cfg.workdir`."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(cfg: Any, *args: Any, **kwargs: Any) -> Any:
            with workspace_lock(Path(cfg.workdir), stage):
                return fn(cfg, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
