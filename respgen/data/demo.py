"""Signal generators for the demo dataset (`respgen.services.demo_data` writes them in the ICBHI layout).

Classes are made to be separable by ear and by spectrogram:
- normal: band-limited breath noise under a two-hump (inhale/exhale) envelope;
- crackle: adds short (3-8 ms) broadband transients, mostly in the inspiration;
- wheeze: adds a sustained tone of 150-900 Hz (with two harmonics and a slow glide);
- both: adds both.
"""

from __future__ import annotations

import numpy as np

LOCATIONS = ("Al", "Ar", "Pl", "Pr", "Tc", "Ll", "Lr")
DEVICES = ("Meditron", "LittC2SE", "AKGC417L", "Litt3200")
CLASS_PROBS = (0.5, 0.29, 0.12, 0.09)  # imbalanced like ICBHI train: normal, crackle, wheeze, both
FIRST_PATIENT = 901


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
