"""Waveform-augmentation libraries for `synth --vocoder augment`: clips per second of the same chain of
classic transforms (shift, time stretch, pitch shift, gain, Gaussian noise at an SNR) on N clips of 1-4 s
at 16 kHz, one seeded call per clip (as `respgen.augment` makes them), for each library importable here.

    python bench/bench_augment.py [--n 100] [--threads 2]

Libraries (each only when installed; the comparison in docs/vocoder.md ran each in its own venv):
- `audiomentations` (numpy): Shift, TimeStretch, PitchShift, Gain, AddGaussianSNR;
- `torch_audiomentations` (torch): Shift, PitchShift, Gain, AddColoredNoise with f_decay 0 (white); it has
  no time stretch, so its chain has one transform fewer;
- `respgen`: `respgen.augment.augment` itself (the chosen library behind the package's own function).
Columns: library, version, import seconds, first clip seconds (warm-up), clips per second after it,
audio seconds per wall second.
"""

from __future__ import annotations

import argparse
import importlib
import random
import time

import numpy as np
import torch

SR = 16000


def clips(n: int) -> list[np.ndarray]:
    """`n` 1-4 s clips: a breathing-like noise envelope with a few tones (the content hardly matters)."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        t = np.arange(int(rng.uniform(1, 4) * SR)) / SR
        env = 0.5 * (1 - np.cos(2 * np.pi * t / t[-1]))
        tone = sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(100, 1000, 3))
        out.append((0.1 * env * (rng.normal(size=t.size) + 0.3 * tone)).astype(np.float32))
    return out


def audiomentations_chain():
    import audiomentations as am

    chain = am.Compose(
        [
            am.Shift(min_shift=-0.2, max_shift=0.2, rollover=True, p=1.0),
            am.TimeStretch(min_rate=0.9, max_rate=1.1, leave_length_unchanged=True, p=1.0),
            am.PitchShift(min_semitones=-2, max_semitones=2, p=1.0),
            am.Gain(min_gain_db=-3, max_gain_db=3, p=1.0),
            am.AddGaussianSNR(min_snr_db=30, max_snr_db=50, p=1.0),
        ]
    )

    def run(x: np.ndarray, seed: int) -> np.ndarray:
        random.seed(seed)
        np.random.seed(seed)
        return chain(samples=x, sample_rate=SR)

    return am.__version__, run


def torch_audiomentations_chain():
    import torch_audiomentations as tam

    chain = tam.Compose(
        [
            tam.Shift(min_shift=-0.2, max_shift=0.2, rollover=True, p=1.0),
            tam.PitchShift(min_transpose_semitones=-2, max_transpose_semitones=2, sample_rate=SR, p=1.0),
            tam.Gain(min_gain_in_db=-3, max_gain_in_db=3, p=1.0),
            tam.AddColoredNoise(min_snr_in_db=30, max_snr_in_db=50, min_f_decay=0, max_f_decay=0, p=1.0),
        ],
        output_type="tensor",
    )

    def run(x: np.ndarray, seed: int) -> np.ndarray:
        torch.manual_seed(seed)
        return chain(torch.from_numpy(x)[None, None], sample_rate=SR)[0, 0].numpy()

    return tam.__version__, run


def respgen_chain():
    from respgen.augment import augment, library_version

    def run(x: np.ndarray, seed: int) -> np.ndarray:
        return augment(x, SR, seed, 30.0)

    return library_version(), run


CHAINS = {
    "audiomentations": audiomentations_chain,
    "torch_audiomentations": torch_audiomentations_chain,
    "respgen": respgen_chain,
}


def bench(name: str, data: list[np.ndarray]) -> str | None:
    t0 = time.perf_counter()
    try:
        version, run = CHAINS[name]()
    except ImportError:
        return None
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    run(data[0], 0)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k, x in enumerate(data):
        y = run(x, k)
        assert y.shape == x.shape, (name, y.shape, x.shape)
    wall = time.perf_counter() - t0
    seconds = sum(x.size for x in data) / SR
    return f"| {name} | {version} | {t_import:.2f} | {t_first:.2f} | {len(data) / wall:.1f} | {seconds / wall:.0f} |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = clips(args.n)
    print(f"{args.n} clips, {sum(x.size for x in data) / SR:.0f} s of audio at {SR} Hz, {args.threads} threads")
    print("| library | version | import s | first clip s | clips/s | audio s per s |\n|---|---|---|---|---|---|")
    for name in CHAINS:
        if importlib.util.find_spec(name) is not None:
            line = bench(name, data)
            if line:
                print(line, flush=True)


if __name__ == "__main__":
    main()
