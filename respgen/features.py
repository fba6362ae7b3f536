"""The two spectrogram front-ends: DiffWave's log-mel (vocoder) and AST's kaldi fbank (classifier).
Each is one function shared by training and inference."""

from __future__ import annotations

from functools import lru_cache

import torch
import torchaudio

from respgen.sample_rate import SAMPLE_RATE

# AudioSet statistics used by transformers' ASTFeatureExtractor
AST_MEAN = -4.2677393
AST_STD = 4.5689974


@lru_cache(maxsize=4)
def _mel_transform(
    sample_rate: int, n_fft: int, hop: int, n_mels: int, f_min: float, f_max: float
) -> torchaudio.transforms.MelSpectrogram:
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate,
        n_fft=n_fft,
        win_length=n_fft,
        hop_length=hop,
        f_min=f_min,
        f_max=f_max,
        n_mels=n_mels,
        power=1.0,
        normalized=True,
        center=True,
    )


def vocoder_mel(
    audio: torch.Tensor,
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = 1024,
    hop: int = 256,
    n_mels: int = 80,
    f_min: float = 20.0,
    f_max: float = 8000.0,
) -> torch.Tensor:
    """DiffWave's conditioning: [..., T] audio -> [..., n_mels, T // hop + 1] in [0, 1]."""
    mel = _mel_transform(sample_rate, n_fft, hop, n_mels, f_min, f_max).to(audio.device)(audio)
    db = 20 * torch.log10(torch.clamp(mel, min=1e-5)) - 20
    return torch.clamp((db + 100) / 100, 0.0, 1.0)


def fade(audio: torch.Tensor, fade_in: int = 0, fade_out: int = 0) -> torch.Tensor:
    """torchaudio's linear `Fade`: the first `fade_in` samples times linspace(0, 1), the last `fade_out`
    times linspace(1, 0) (both ramps include their end points). Lengths are capped at the clip's."""
    n = audio.shape[-1]
    fade_in, fade_out = min(fade_in, n), min(fade_out, n)
    if fade_in == 0 and fade_out == 0:
        return audio
    return torchaudio.transforms.Fade(fade_in, fade_out, "linear")(audio)


def fit_length(audio: torch.Tensor, n: int, pad: str = "repeat", fade_out: int = 0) -> torch.Tensor:
    """Crop a 1-D clip to n samples, or pad it by repeating it (or with zeros). With `fade_out`, a clip
    that was padded (or was exactly n samples) gets its last `fade_out` samples faded out linearly, as
    the reference's cut_pad_sample_torchaudio does; a longer clip is only cut."""
    if audio.shape[-1] > n or (audio.shape[-1] == n and not fade_out):
        return audio[..., :n]
    if pad == "repeat" and audio.shape[-1] > 0:
        reps = -(-n // audio.shape[-1])
        out = audio.repeat(reps)[:n]
    else:
        out = torch.nn.functional.pad(audio, (0, n - audio.shape[-1]))
    return fade(out, 0, fade_out)


def ast_fbank(audio: torch.Tensor, sample_rate: int = SAMPLE_RATE, num_mel_bins: int = 128) -> torch.Tensor:
    """AST input: kaldi fbank (10 ms shift, 128 bins, hanning) normalised with AudioSet statistics.
    [T] audio -> [frames, num_mel_bins]."""
    fbank = torchaudio.compliance.kaldi.fbank(
        audio.unsqueeze(0),
        htk_compat=True,
        sample_frequency=sample_rate,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=num_mel_bins,
        dither=0.0,
        frame_shift=10,
    )
    return (fbank - AST_MEAN) / (AST_STD * 2)
