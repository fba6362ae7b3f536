"""Are the synthetic cycles new cycles or copies of the real ones they were vocoded from?

Per class, three log-mel L1 distances (`respgen.fidelity`) put side by side:
- `mel_l1`: each synthetic cycle to the real cycle it was conditioned on;
- `mel_l1_other_seed` (when the rows carry it): two syntheses of the same source with different seeds;
- real-vs-real: two different real cycles of the class (`fidelity.real_l1`), the scale of natural variety.
Ratios to real-vs-real make them comparable across classes: 1.0 = as different from its source as
another real cycle of the class is.

Pure functions on per-clip records; no workspace."""

from __future__ import annotations

from respgen.averages import mean

NEAR_COPY_RATIO = 0.25
"""A class's synthetic cycles are *near-copies* of their sources when their mean distance to them is
below this share of the distance between two real cycles of the class: then they add little that the
real cycles do not already hold (augmenting with them is close to oversampling the real cycles), and a
low distance to the source reads as a copy, not as realism."""


def ratio(x: float | None, scale: float | None) -> float | None:
    """x / scale; None when either is missing or the scale is not positive."""
    return x / scale if x is not None and scale is not None and scale > 0 else None


def class_diversity(per_clip: list[dict], real_vs_real: float | None) -> dict:
    """The diversity entry of one class's clips (see `diversity_summary`)."""
    mel_l1 = mean([r["mel_l1"] for r in per_clip if r.get("mel_l1") is not None])
    spread = mean([r["mel_l1_other_seed"] for r in per_clip if r.get("mel_l1_other_seed") is not None])
    copy_ratio = ratio(mel_l1, real_vs_real)
    return {
        "n": len(per_clip),
        "mel_l1": mel_l1,
        "real_vs_real": real_vs_real,
        "copy_ratio": copy_ratio,
        "seed_spread": spread,
        "seed_spread_ratio": ratio(spread, real_vs_real),
        "near_copy": copy_ratio is not None and copy_ratio < NEAR_COPY_RATIO,
    }


def diversity_summary(per_clip: list[dict], real_vs_real: dict[str, float | None], classes) -> dict[str, dict]:
    """{class: {n, mel_l1, real_vs_real, copy_ratio, seed_spread, seed_spread_ratio, near_copy}} for each
    class with clips. per_clip: records with `label`, `mel_l1` and optionally `mel_l1_other_seed`;
    real_vs_real: {class: the real-vs-real distance or None}. copy_ratio = mean mel_l1 / real-vs-real;
    seed_spread = mean mel_l1_other_seed (None when no clip has it); seed_spread_ratio = seed_spread /
    real-vs-real; near_copy = copy_ratio < NEAR_COPY_RATIO (False when the ratio is unknown)."""
    out = {}
    for c in classes:
        mine = [r for r in per_clip if r["label"] == c]
        if mine:
            out[c] = class_diversity(mine, real_vs_real.get(c))
    return out


def diversity_sentence(cls: str, d: dict) -> str:
    """One plain-language line for the report, e.g. 'crackle: near-copies of their sources (distance
    0.07x real-vs-real; two seeds differ by 0.02x)'."""
    if d.get("copy_ratio") is None:
        return f"{cls}: no real-vs-real distance to compare with (fewer than two real cycles or no distances)"
    verdict = "near-copies of their sources" if d["near_copy"] else "differ from their sources"
    seeds = (
        f"two seeds differ by {d['seed_spread_ratio']:.2f}x"
        if d.get("seed_spread_ratio") is not None
        else "seed spread not measured"
    )
    return f"{cls}: {verdict} (distance {d['copy_ratio']:.2f}x real-vs-real; {seeds})"
