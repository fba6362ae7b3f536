"""Conventional waveform augmentation, the baseline `synth --vocoder augment` makes its clips with: a real
cycle through classic transforms of the `audiomentations` library (why that library:
docs/vocoder.md#augment-conventional-augmentation-no-vocoder), in this order:

1. time stretch by a rate in [1 - stretch, 1 + stretch] (signalsmith stretch: the pitch is kept), the result
   repeat-padded or cut back to the input's length;
2. circular time shift by up to +/- `shift` of the clip (a 5 ms cross-fade at the seam);
3. pitch shift by up to +/- `semitones` (signalsmith; the length is kept);
4. gain by up to +/- `gain_db` dB;
5. additive Gaussian noise at an SNR in [snr_db, snr_db + snr_span_db] dB.

Each clip's parameters are drawn from its seed alone (`draw`), then each transform runs with exactly that
value (its range collapsed to it), and the noise is drawn from numpy's RNG seeded with the clip's seed:
the same (waveform, sample rate, seed, snr) gives the same clip. The library draws from Python's and
numpy's global RNGs; their states are restored afterwards, so the caller's random streams are untouched.

Domain code on arrays: no workspace, no config. The library is imported on first use (it pulls librosa)."""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from respgen.errors import RespgenError

LIBRARY = "audiomentations"


@dataclass(frozen=True)
class AugmentRanges:
    """The largest change of each transform (symmetric, +/-), and how far above the lowest SNR it may go."""

    stretch: float = 0.1  # relative time stretch
    shift: float = 0.2  # circular time shift, fraction of the clip
    semitones: float = 2.0  # pitch shift
    gain_db: float = 3.0
    snr_span_db: float = 20.0  # the noise's SNR is drawn in [snr_db, snr_db + snr_span_db]


@dataclass(frozen=True)
class AugmentDraw:
    """One clip's transform parameters, as applied."""

    stretch: float  # time-stretch rate (> 1: faster)
    shift: float  # fraction of the clip (> 0: later)
    semitones: float
    gain_db: float
    snr_db: float

    def as_dict(self) -> dict:
        return {k: round(v, 6) for k, v in asdict(self).items()}


def library_version() -> str:
    """The installed version of the augmentation library; a one-line error when it is missing."""
    try:
        return version(LIBRARY)
    except PackageNotFoundError:
        raise RespgenError(
            f"{LIBRARY} is not installed (needed by `synth --vocoder augment`): pip install 'respgen[augment]'"
        ) from None


def provenance(snr_db: float, ranges: AugmentRanges = AugmentRanges()) -> dict:
    """What a synthetic manifest row records as its `vocoder`: the library and the transforms' ranges."""
    r = ranges
    return {
        "kind": "augment",
        "library": LIBRARY,
        "version": library_version(),
        "transforms": {
            "time_stretch": [1 - r.stretch, 1 + r.stretch],
            "shift": [-r.shift, r.shift],
            "pitch_semitones": [-r.semitones, r.semitones],
            "gain_db": [-r.gain_db, r.gain_db],
            "gaussian_snr_db": [snr_db, snr_db + r.snr_span_db],
        },
    }


def draw(seed: int, snr_db: float, ranges: AugmentRanges = AugmentRanges()) -> AugmentDraw:
    """The clip's parameters: a pure function of its seed (uniform within each range)."""
    rng = random.Random(f"augment:{seed}")
    r = ranges
    return AugmentDraw(
        stretch=rng.uniform(1 - r.stretch, 1 + r.stretch),
        shift=rng.uniform(-r.shift, r.shift),
        semitones=rng.uniform(-r.semitones, r.semitones),
        gain_db=rng.uniform(-r.gain_db, r.gain_db),
        snr_db=rng.uniform(snr_db, snr_db + r.snr_span_db),
    )


def augment(
    wave: np.ndarray, sample_rate: int, seed: int, snr_db: float, ranges: AugmentRanges = AugmentRanges()
) -> np.ndarray:
    """`wave` [T] through the transforms with the parameters `draw(seed, snr_db, ranges)`: float32 [T]."""
    return augment_drawn(wave, sample_rate, draw(seed, snr_db, ranges), seed)


def augment_drawn(wave: np.ndarray, sample_rate: int, params: AugmentDraw, seed: int) -> np.ndarray:
    """`wave` [T] through the transforms with the parameters `params`; the noise from `seed`."""
    library_version()  # a one-line error when it is missing
    import audiomentations as am

    x = np.ascontiguousarray(wave, dtype=np.float32).reshape(-1)
    if x.size == 0:
        return x
    p = params
    stretch = am.TimeStretch(min_rate=p.stretch, max_rate=p.stretch, leave_length_unchanged=False, p=1.0)
    rest = am.Compose(
        [
            am.Shift(min_shift=p.shift, max_shift=p.shift, shift_unit="fraction", rollover=True, p=1.0),
            am.PitchShift(min_semitones=p.semitones, max_semitones=p.semitones, p=1.0),
            am.Gain(min_gain_db=p.gain_db, max_gain_db=p.gain_db, p=1.0),
            am.AddGaussianSNR(min_snr_db=p.snr_db, max_snr_db=p.snr_db, p=1.0),
        ]
    )
    with _seeded(seed):
        y = np.resize(stretch(samples=x, sample_rate=sample_rate), x.size)  # np.resize repeats: repeat-pad / cut
        return rest(samples=y, sample_rate=sample_rate).astype(np.float32)


@contextmanager
def _seeded(seed: int):
    """Python's and numpy's global RNGs seeded with `seed` inside; their states restored afterwards."""
    state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        random.setstate(state)
        np.random.set_state(np_state)
