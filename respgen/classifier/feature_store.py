"""Classifier features kept on disk: each clip's fbank computed once per (clip, feature spec) into the
workspace's cache, reused by every later run, arm and seed, and read back a batch at a time, so memory
does not grow with the number of clips (at most `MEMORY_BUDGET` of them stay in memory once read).

Layout: `<root>/<spec digest>/<the clip's audio path relative to the workspace>.<fingerprint>.npy`
(float32, [frames, 128]). The fingerprint is taken from the audio file's size and modification time: a
re-written clip gets a new cache file, the stale one is never read. Files are written to a temporary
name and renamed into place, so a killed run leaves only whole files (and temporaries, which are never
read); a file that does not load as the expected array, or holds a non-finite value, is computed again.

Memory: beyond the `Memo` budget a clip's array is a private mapping of its file (`mmap_mode="c"`),
not a heap block, and every `TRIM_EVERY` reads the heap's free pages are handed back (`trim_heap`).
Without both, the blocks read and dropped each batch fragmented the heap and peak RSS grew with the
number of clips (a full-size one-epoch finetune, features cached: 1.52 GiB with 2,000 synthetic clips,
1.66 GiB with 8,000); with them 1.47 and 1.49 GiB, and the epoch faster (docs/benchmarks.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from respgen.classifier.data import clip_features, n_frames
from respgen.data.manifest import load_clip
from respgen.sample_rate import SAMPLE_RATE

FORMAT = 1  # bump when clip_features changes what it computes
BINS = 128
MEMORY_BUDGET = 512 * 2**20  # bytes of features kept in memory once read (a 5 s clip: 255 KB)
TRIM_EVERY = 256  # reads between two `trim_heap` calls


@functools.cache
def _libc():
    """The C library (glibc on Linux), or None where ctypes cannot find one (looked up on first use:
    `find_library` may run `ldconfig`)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def trim_heap() -> bool:
    """Hand the heap's free pages back to the system (glibc `malloc_trim`); False where there is no
    glibc (nothing happens there)."""
    libc = _libc()
    try:
        return bool(libc.malloc_trim(0)) if libc is not None else False
    except AttributeError:  # a C library without malloc_trim (musl, macOS)
        return False


@dataclass(frozen=True)
class FeatureKey:
    """What a clip's features depend on besides the clip (see `classifier.data.clip_features`)."""

    length: float
    pad: str
    fade_out: int = 0
    fit: str = "pad"
    sample_rate: int = SAMPLE_RATE

    @property
    def frames(self) -> int:
        return n_frames(self.length, self.sample_rate)

    def digest(self) -> str:
        text = json.dumps({**asdict(self), "format": FORMAT}, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]


class Memo:
    """Arrays already read, kept while they fit in `budget` bytes (then read from disk each time): small
    datasets stay in memory after the first epoch, large ones cost at most the budget."""

    def __init__(self, budget: int):
        self.budget = budget
        self.arrays: dict[Path, np.ndarray] = {}
        self.used = 0
        self.reads = 0

    def load(self, path: Path) -> np.ndarray:
        self.reads += 1
        if self.reads % TRIM_EVERY == 0:  # free pages left between blocks go back (module doc)
            trim_heap()
        array = self.arrays.get(path)
        if array is not None:
            return array
        array = np.load(path, mmap_mode="c")  # a private mapping of the file, not a heap block (module doc)
        if self.used + array.nbytes <= self.budget:
            array = np.array(array)
            self.arrays[path] = array
            self.used += array.nbytes
        return array


class ClipFeatures:
    """[N, frames, 128] features of N clips, each read from its cache file when indexed (through a `Memo`).
    Supports `len`, an int, a slice, a list or a 1-D tensor of indices (-> a tensor), `subset` and `cat`."""

    def __init__(self, files: list[Path], frames: int, memo: Memo | None = None):
        self.files = list(files)
        self.frames = frames
        self.memo = memo or Memo(0)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.files), self.frames, BINS)

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, int):
            return torch.from_numpy(self.memo.load(self.files[index]))
        if isinstance(index, slice):
            picked = self.files[index]
        else:
            picked = [self.files[int(i)] for i in (index.tolist() if torch.is_tensor(index) else index)]
        if not picked:
            return torch.zeros(0, self.frames, BINS)
        return torch.from_numpy(np.stack([self.memo.load(f) for f in picked]))

    def subset(self, indices: list[int]) -> "ClipFeatures":
        return ClipFeatures([self.files[i] for i in indices], self.frames, self.memo)

    @staticmethod
    def cat(parts: list["ClipFeatures"]) -> "ClipFeatures":
        return ClipFeatures([f for p in parts for f in p.files], parts[0].frames, parts[0].memo)


class FeatureStore:
    """The cache under `root` (the workspace's `cache/features`) for clips inside `workspace`."""

    def __init__(self, root: Path, workspace: Path, memory_budget: int = MEMORY_BUDGET):
        self.root = Path(root)
        self.workspace = Path(workspace)
        self.computed = 0  # clips whose features this store computed (not found in the cache)
        self.memo = Memo(memory_budget)  # shared by every ClipFeatures this store hands out

    def features(self, manifest: Path, rows: list[dict], key: FeatureKey) -> ClipFeatures:
        """The features of `rows` (paths relative to `manifest`), computing and storing the missing ones."""
        files = []
        for row in rows:
            path = self.file_for(manifest.parent / row["path"], key)
            if not _loads(path, key.frames):
                audio = load_clip(manifest, row, key.sample_rate)
                fbank = clip_features(audio, key.length, key.pad, key.sample_rate, key.fade_out, key.fit)
                _save(path, fbank.numpy().astype(np.float32, copy=False))
                self.computed += 1
            files.append(path)
        return ClipFeatures(files, key.frames, self.memo)

    def file_for(self, audio: Path, key: FeatureKey) -> Path:
        """The cache file of one audio file's features under `key`."""
        st = audio.stat()
        fingerprint = hashlib.sha1(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:10]
        try:
            relative = audio.resolve().relative_to(self.workspace.resolve())
        except ValueError:  # a clip outside the workspace: keyed by its absolute path
            relative = Path("external", *audio.resolve().parts[1:])
        return self.root / key.digest() / f"{relative}.{fingerprint}.npy"


def _loads(path: Path, frames: int) -> bool:
    """Whether `path` holds a whole [frames, 128] float32 array of finite values (a NaN or inf, e.g. from
    a damaged file, would make every run that reads it diverge: such a file is a miss, computed again)."""
    if not path.is_file():
        return False
    try:
        array = np.load(path, mmap_mode="r")
        if array.shape != (frames, BINS) or array.dtype != np.float32:
            return False
        # one pass, no [frames, 128] temporary: a float64 sum of finite float32 values cannot overflow,
        # so it is finite exactly when every value is
        return bool(np.isfinite(array.sum(dtype=np.float64)))
    except (OSError, ValueError):
        return False


def _save(path: Path, array: np.ndarray) -> None:
    """Write whole or not at all: a temporary file in the same folder, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, array)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
