"""The noise-like verdict, in one place for every view (synth, finetune's warning, quickstart, the
report): a class's synthetic cycles are noise-like when they are on average no closer to their
conditioning (log-mel L1, `respgen.fidelity`) than a loudness-matched noise baseline is. Torch-free, so
the command line's renderer can use it."""

from __future__ import annotations


def is_noise_like(summary: dict) -> bool:
    """The noise-like verdict for one class's summary (`mel_l1`, `mel_l1_noise`): its synthetic clips are on
    average no closer to their conditioning than the noise baseline. False when either is not measured."""
    mel, noise = summary.get("mel_l1"), summary.get("mel_l1_noise")
    return mel is not None and noise is not None and mel >= noise


def noise_like(summary: dict[str, dict]) -> list[str]:
    """The classes of a per-class summary whose synthetic clips are noise-like (`is_noise_like`)."""
    return [c for c, s in summary.items() if is_noise_like(s)]
