"""Synthetic-data fidelity, one definition used everywhere (`vocoder train` validation, `synth`,
`finetune`'s warning, `report`).

Distance: the mean absolute difference of the vocoder's log-mels (`features.vocoder_mel`, values in
[0, 1]) of a synthetic clip and of the real cycle it was conditioned on, the real cycle repeat-padded
or cropped to the synthetic clip's length (as `synth` conditions on it). Two baselines put it in scale:
- noise: Gaussian noise with the conditioning clip's loudness (RMS), against the same real cycle;
- real: two different real cycles of the same class against each other.
A vocoder whose clips are no closer than the noise baseline makes noise-like cycles (the verdict:
`respgen.noise_like`).

Pure functions on tensors and manifest rows: no workspace, no config."""

from __future__ import annotations

import zlib
from pathlib import Path

import torch

from respgen.averages import mean
from respgen.data.manifest import load_clip
from respgen.features import fit_length, vocoder_mel


def mel_l1(audio: torch.Tensor, reference: torch.Tensor, **mel_kwargs) -> float:
    """Log-mel L1 distance of `audio` [T] to `reference` (fitted to `audio`'s length by repetition)."""
    reference = fit_length(reference, audio.shape[-1])
    return mel_l1_to_mel(audio, vocoder_mel(reference, **mel_kwargs), **mel_kwargs)


def mel_l1_to_mel(audio: torch.Tensor, mel: torch.Tensor, **mel_kwargs) -> float:
    """The same distance of `audio` [T] to a vocoder mel [n_mels, frames] it was conditioned on (the
    generated clip's mel cut to the mel's frames)."""
    return float((vocoder_mel(audio, **mel_kwargs)[..., : mel.shape[-1]] - mel).abs().mean())


def loudness_matched_noise(reference: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """n samples of Gaussian noise with the RMS of `reference`."""
    rms = reference.pow(2).mean().sqrt()
    return torch.randn(n, generator=generator) * rms


def noise_l1(reference: torch.Tensor, n: int, seed: int, **mel_kwargs) -> float:
    """The noise baseline for a clip of n samples conditioned on `reference` (deterministic in `seed`)."""
    noise = loudness_matched_noise(fit_length(reference, n), n, torch.Generator().manual_seed(seed))
    return mel_l1(noise, reference, **mel_kwargs)


def noise_seed(clip_id: str) -> int:
    return zlib.crc32(f"noise:{clip_id}".encode())


def clip_fidelity(synthetic: torch.Tensor, reference: torch.Tensor, clip_id: str, **mel_kwargs) -> dict[str, float]:
    """{'mel_l1', 'mel_l1_noise'} of one synthetic clip and the real cycle it was conditioned on."""
    return {
        "mel_l1": round(mel_l1(synthetic, reference, **mel_kwargs), 6),
        "mel_l1_noise": round(noise_l1(reference, synthetic.shape[-1], noise_seed(clip_id), **mel_kwargs), 6),
    }


def rows_fidelity(
    synth_manifest: Path, rows: list[dict], real_manifest: Path, real_by_id: dict[str, dict]
) -> list[dict]:
    """Per synthetic row: its stored `mel_l1`/`mel_l1_noise`, or both computed from the audio when the
    row lacks them (manifests written before they were recorded). Rows whose source is unknown are skipped."""
    out = []
    for row in rows:
        if "mel_l1" in row and "mel_l1_noise" in row:
            out.append({"label": row["label"], "mel_l1": row["mel_l1"], "mel_l1_noise": row["mel_l1_noise"]})
        elif row.get("conditioned_on") in real_by_id:
            syn = load_clip(synth_manifest, row)
            real = load_clip(real_manifest, real_by_id[row["conditioned_on"]])
            out.append({"label": row["label"], **clip_fidelity(syn, real, row["id"])})
    return out


def real_l1(rows: list[dict], manifest: Path, n_samples: int, max_pairs: int = 50) -> float | None:
    """The real-vs-real baseline of a class: mean distance of each of its real cycles (sorted by id, at
    most `max_pairs`) to the next one, both fitted to `n_samples`; None with fewer than two cycles."""
    rows = sorted(rows, key=lambda r: r["id"])
    if len(rows) < 2:
        return None
    pairs = [(rows[i], rows[(i + 1) % len(rows)]) for i in range(min(max_pairs, len(rows)))]
    audio = {r["id"]: fit_length(load_clip(manifest, r), n_samples) for pair in pairs for r in pair}
    return sum(mel_l1(audio[a["id"]], audio[b["id"]]) for a, b in pairs) / len(pairs)


def class_summary(per_clip: list[dict], classes) -> dict[str, dict]:
    """{class: {'n', 'mel_l1', 'mel_l1_noise'}} means over the clips of each class present."""
    out = {}
    for c in classes:
        mine = [r for r in per_clip if r["label"] == c]
        if mine:
            out[c] = {
                "n": len(mine),
                "mel_l1": mean([r["mel_l1"] for r in mine]),
                "mel_l1_noise": mean([r["mel_l1_noise"] for r in mine]),
            }
    return out


def label_agreement(predicted: list[str], label: str) -> float | None:
    """Share of a class's synthetic clips a real-only classifier labels as that class."""
    return sum(p == label for p in predicted) / len(predicted) if predicted else None
