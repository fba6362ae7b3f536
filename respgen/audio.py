"""Audio I/O (soundfile) and resampling (torchaudio), with the validation users need."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio

from respgen.atomic import atomic_path
from respgen.errors import RespgenError
from respgen.sample_rate import SAMPLE_RATE


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode any soundfile format to float32 mono. Rejects empty, truncated, corrupt and non-finite audio."""
    path = Path(path)
    if not path.is_file():
        raise RespgenError("audio file not found", path)
    try:
        info = sf.info(str(path))
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise RespgenError(f"unreadable audio: {str(e).split(':')[-1].strip() or e.__class__.__name__}", path) from None
    if any(line.startswith("data") and "should be" in line for line in info.extra_info.splitlines()):
        raise RespgenError("truncated audio: the data chunk is shorter than its header says", path)
    if data.shape[0] == 0:
        raise RespgenError("empty audio (0 samples)", path)
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not np.isfinite(mono).all():
        raise RespgenError("audio contains NaN or infinite samples", path)
    return np.ascontiguousarray(mono), int(sr)


@lru_cache(maxsize=16)
def _resampler(orig: int, new: int) -> torchaudio.transforms.Resample:
    return torchaudio.transforms.Resample(orig, new)


def resample(wave: np.ndarray | torch.Tensor, orig: int, new: int = SAMPLE_RATE) -> torch.Tensor:
    """Resample a 1-D signal; the windowed-sinc kernel is built once per rate pair."""
    x = torch.as_tensor(wave, dtype=torch.float32)
    if orig == new:
        return x
    with torch.inference_mode():
        return _resampler(orig, new)(x)


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Read, mix down and resample to `sample_rate`: a 1-D float32 tensor."""
    wave, sr = read_audio(path)
    return resample(wave, sr, sample_rate)


def write_wav(
    path: str | Path, wave: np.ndarray | torch.Tensor, sample_rate: int = SAMPLE_RATE, atomic: bool = True
) -> None:
    """Write mono 16-bit PCM (samples clipped to [-1, 1]); atomically unless the caller already writes
    into a staging folder that is swapped in as a whole. Encoded in memory, then written with one call
    (half the cost of letting libsndfile write the file piecemeal)."""
    x = wave.detach().cpu().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave)
    pcm = np.round(np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)
    buf = io.BytesIO()
    sf.write(buf, pcm, sample_rate, subtype="PCM_16", format="WAV")
    if not atomic:
        Path(path).write_bytes(buf.getvalue())
        return
    with atomic_path(path, suffix=".wav") as tmp:
        tmp.write_bytes(buf.getvalue())
