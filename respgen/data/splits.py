"""Carving a patient-disjoint, class-stratified validation set out of the official train split."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

TRIALS = 2000
MAX_OVERSHOOT = 2.0  # a val set may hold at most this many times the target number of cycles


@dataclass
class ValSplit:
    patients: frozenset[str]
    note: str  # why the split looks the way it does (shown in the prepare report)


def choose_val_patients(patient_counts: dict[str, Counter], fraction: float, seed: int) -> ValSplit:
    """Pick train patients for val so that val holds ~`fraction` of the train cycles, every class that
    train has appears in val and stays in train, and no patient is in both.

    Seeded random search over patient orders (greedy fill to the target), scored by how far the val
    size and class proportions are from the target. When no order satisfies the constraints (too few
    patients, e.g. the 4 train patients of the mini set) no val set is made: the rule is documented
    in docs/data.md and the returned note says so.
    """
    if fraction <= 0:
        return ValSplit(frozenset(), "val split disabled (--val-fraction 0)")
    total = Counter()
    for counts in patient_counts.values():
        total.update(counts)
    n_total = sum(total.values())
    classes = [c for c, n in total.items() if n > 0]
    target = fraction * n_total
    patients = sorted(patient_counts)
    rng = random.Random(seed)
    best: tuple[float, frozenset[str]] | None = None
    for _ in range(TRIALS):
        order = patients[:]
        rng.shuffle(order)
        val: list[str] = []
        val_counts = Counter()
        for p in order:
            if sum(val_counts.values()) >= target:
                break
            val.append(p)
            val_counts.update(patient_counts[p])
        n_val = sum(val_counts.values())
        train_counts = total - val_counts
        if len(val) == len(patients) or n_val > MAX_OVERSHOOT * target:
            continue
        if any(val_counts[c] == 0 or train_counts[c] == 0 for c in classes):
            continue
        score = abs(n_val - target) / target + sum(abs(val_counts[c] / n_val - total[c] / n_total) for c in classes)
        if best is None or score < best[0]:
            best = (score, frozenset(val))
    if best is None:
        return ValSplit(
            frozenset(),
            f"no val split: the {len(patients)} train patients cannot be divided so that val holds "
            f"~{fraction:.0%} of train cycles with every class on both sides; all train patients stay in "
            "train (test is never used for validation)",
        )
    return ValSplit(best[1], f"val: {len(best[1])} of {len(patients)} train patients, patient-disjoint, seed {seed}")
