"""Time `prepare` on a full-size ICBHI folder (920 recordings, placeholder audio) against the floor:
decoding and resampling every file once, nothing else.

    python bench/bench_prepare.py [--annotations ../shared/data/icbhi-annotations] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _floor_one(path: str) -> int:
    from respgen.audio import read_audio, resample

    wave, sr = read_audio(path)
    return int(resample(wave, sr, 16000).shape[0])


def _init() -> None:
    import torch

    torch.set_num_threads(1)


def floor(folder: Path, workers: int) -> float:
    wavs = sorted(str(p) for p in folder.glob("*.wav"))
    t = time.perf_counter()
    if workers == 1:
        _init()
        for w in wavs:
            _floor_one(w)
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init) as pool:
            list(pool.map(_floor_one, wavs, chunksize=max(1, len(wavs) // (workers * 8))))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--annotations", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/icbhi-annotations"
    )
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    from respgen.config import PrepareConfig

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from placeholder import build_placeholder_icbhi  # test scaffolding, not part of the package

    from respgen.services.prepare import prepare

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "icbhi"
        n = build_placeholder_icbhi(args.annotations, folder)
        rows = []
        for workers in sorted({1, args.workers}):
            t_floor = floor(folder, workers)
            t = time.perf_counter()
            result = prepare(PrepareConfig(icbhi_dir=folder, workdir=Path(tmp) / f"work{workers}", workers=workers))
            t_prep = time.perf_counter() - t
            cycles = sum(sum(c.values()) for c in result.counts.values())
            rows.append((workers, t_floor, t_prep, cycles))
    table = Table(title=f"prepare on a full-size placeholder ICBHI folder ({n} recordings)")
    for col in ("workers", "floor: decode+resample (s)", "prepare (s)", "ratio", "cycles"):
        table.add_column(col, justify="right")
    for workers, t_floor, t_prep, cycles in rows:
        table.add_row(str(workers), f"{t_floor:.1f}", f"{t_prep:.1f}", f"{t_prep / t_floor:.2f}", str(cycles))
    Console().print(table)


if __name__ == "__main__":
    main()
