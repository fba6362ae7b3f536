"""`demo-data`: a small, seeded, synthetic dataset in the ICBHI folder layout.

Classes are made to be separable by ear and by spectrogram:
- normal: band-limited breath noise under a two-hump (inhale/exhale) envelope;
- crackle: adds short (3-8 ms) broadband transients, mostly in the inspiration;
- wheeze: adds a sustained tone of 150-900 Hz (with two harmonics and a slow glide);
- both: adds both.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from respgen.atomic import write_text
from respgen.audio import write_wav
from respgen.config import DemoDataConfig
from respgen.data.icbhi import DIAGNOSIS_FILE_NAME, SPLIT_FILE_NAME
from respgen.errors import RespgenError
from respgen.labels import CLASSES

LOCATIONS = ("Al", "Ar", "Pl", "Pr", "Tc", "Ll", "Lr")
DEVICES = ("Meditron", "LittC2SE", "AKGC417L", "Litt3200")
CLASS_PROBS = (0.4, 0.25, 0.2, 0.15)  # imbalanced, like ICBHI
FIRST_PATIENT = 901


@dataclass
class DemoDataResult:
    out_dir: Path
    recordings: dict[str, int]
    counts: dict[str, dict[str, int]]

    def to_dict(self) -> dict:
        return {"out_dir": str(self.out_dir), "recordings": self.recordings, "counts": self.counts}


def breath(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Band-limited noise (~100-1500 Hz) under an inhale/exhale envelope."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    spec[(freqs < 100) | (freqs > 1500)] = 0
    noise = np.fft.irfft(spec, n)
    noise /= np.abs(noise).max() + 1e-9
    t = np.arange(n) / n
    envelope = 0.15 + 0.85 * np.abs(np.sin(2 * np.pi * t)) ** 1.5
    return 0.08 * noise * envelope


def crackles(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n)
    for _ in range(rng.integers(8, 16)):
        at = int(rng.uniform(0.05, 0.6) * n)
        length = int(rng.uniform(0.003, 0.008) * sr)
        t = np.arange(length) / sr
        burst = rng.standard_normal(length) * np.exp(-t / 0.0015)
        burst[0] = rng.choice([-1.0, 1.0]) * 1.5
        seg = out[at : at + length]
        seg += rng.uniform(0.3, 0.6) * burst[: len(seg)]
    return out


def wheeze(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    f0 = rng.uniform(150, 900)
    start, stop = int(rng.uniform(0.05, 0.3) * n), int(rng.uniform(0.7, 0.95) * n)
    t = np.arange(stop - start) / sr
    freq = f0 * (1 + 0.1 * np.sin(2 * np.pi * t / max(t[-1], 1e-3)))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    tone = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)
    fade = np.minimum(1, np.minimum(t, t[-1] - t) / 0.05)
    out = np.zeros(n)
    out[start:stop] = rng.uniform(0.12, 0.2) * tone * fade
    return out


def make_cycle(label: str, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    x = breath(n, sr, rng)
    if label in ("crackle", "both"):
        x += crackles(n, sr, rng)
    if label in ("wheeze", "both"):
        x += wheeze(n, sr, rng)
    return x


def make_demo_data(cfg: DemoDataConfig) -> DemoDataResult:
    out = cfg.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RespgenError(f"cannot create output folder: {e.strerror or e}", out) from None
    rng = np.random.default_rng(cfg.seed)
    n_train = max(1, round(cfg.patients * 2 / 3))
    split_lines, diagnosis_lines = [], []
    counts = {s: Counter() for s in ("train", "test")}
    recordings = Counter()
    for p in range(cfg.patients):
        patient = FIRST_PATIENT + p
        split = "train" if p < n_train else "test"
        device = DEVICES[p % len(DEVICES)]
        diagnosis_lines.append(f"{patient},{'Healthy' if p % 3 == 0 else 'COPD'}")
        for r in range(cfg.recordings_per_patient):
            name = f"{patient}_{r + 1}b1_{LOCATIONS[r % len(LOCATIONS)]}_sc_{device}"
            # every class at least once per recording (when there is room), the rest imbalanced
            labels = list(CLASSES)[: cfg.cycles_per_recording]
            labels += list(rng.choice(CLASSES, size=cfg.cycles_per_recording - len(labels), p=CLASS_PROBS))
            rng.shuffle(labels)
            pieces, lines, t = [np.zeros(int(0.1 * cfg.sample_rate))], [], 0.1
            for label in labels:
                n = int(rng.uniform(2.0, 4.0) * cfg.sample_rate)
                pieces.append(make_cycle(str(label), n, cfg.sample_rate, rng))
                c, w = int(label in ("crackle", "both")), int(label in ("wheeze", "both"))
                lines.append(f"{t:.3f}\t{t + n / cfg.sample_rate:.3f}\t{c}\t{w}")
                t += n / cfg.sample_rate
                counts[split][str(label)] += 1
            pieces.append(np.zeros(int(0.1 * cfg.sample_rate)))
            write_wav(out / f"{name}.wav", np.concatenate(pieces), cfg.sample_rate)
            write_text(out / f"{name}.txt", "\n".join(lines) + "\n")
            split_lines.append(f"{name}\t{split}")
            recordings[split] += 1
    write_text(out / SPLIT_FILE_NAME, "\n".join(split_lines) + "\n")
    write_text(out / DIAGNOSIS_FILE_NAME, "\n".join(diagnosis_lines) + "\n")
    return DemoDataResult(
        out_dir=out,
        recordings=dict(recordings),
        counts={s: {c: counts[s][c] for c in CLASSES} for s in counts},
    )
