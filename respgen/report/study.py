"""The study numbers of a report, from its finished runs: how Score and minority-class accuracy move with
the amount of synthetic (or augmented) data (`compare --synthetic-per-class 250,500,...`), which amount
val selects, and what each run cost against what it gained over real-only training.

Runs of one sweep share a name up to `-n<amount>` (as compare names them), an arm and a synthetic set;
a run's real-only reference is the `ce` run of the same comparison (`<name>-ce`), else the newest real-only
run in the workspace."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from respgen.arms import ARMS
from respgen.averages import mean
from respgen.classifier.resolution import Difference, difference_of

if TYPE_CHECKING:
    from respgen.report.model import RunReport

AMOUNT_SUFFIX = re.compile(r"^(?P<stem>.+)-n(?P<amount>\d+)$")


@dataclass
class SweepPoint:
    amount: int
    score: tuple[float | None, float]  # test Score, (mean, std) over seeds
    minority: tuple[float | None, float]  # mean test accuracy of the non-normal classes, (mean, std) over seeds
    val_score: float | None  # mean val Score: what selects the amount


@dataclass
class Sweep:
    label: str  # e.g. "AFT, paired (griffinlim)"
    runs: str  # the runs' common name stem
    points: list[SweepPoint]  # by amount
    chosen: int | None  # the amount with the best val Score (None without a val split)


@dataclass
class RunCost:
    run: str
    hours: float  # wall time of training every seed
    making_hours: float  # wall time recorded for making its synthetic set (synth, + vocoder training)
    gain: float | None  # mean test Score minus its real-only reference's
    reference: str | None

    @property
    def gain_per_hour(self) -> float | None:
        total = self.hours + self.making_hours
        return None if self.gain is None or total <= 0 else self.gain / total


def sweeps(runs: list[RunReport], classes: list[str]) -> list[Sweep]:
    """Every group of runs that differ only in the amount of synthetic data, with two amounts or more."""
    groups: dict[tuple[str, str], list[RunReport]] = {}
    for r in runs:
        m = AMOUNT_SUFFIX.match(r.name)
        if m and r.amount is not None and int(m["amount"]) == r.amount:
            label = r.mode + (f" ({r.synthetic_set})" if r.synthetic_set else "")
            groups.setdefault((m["stem"], label), []).append(r)
    out = []
    for (stem, label), members in groups.items():
        points = sorted((_point(r, classes[1:]) for r in members), key=lambda p: p.amount)
        if len({p.amount for p in points}) < 2:
            continue
        with_val = [p for p in points if p.val_score is not None]
        chosen = max(with_val, key=lambda p: (p.val_score, -p.amount)).amount if with_val else None
        out.append(Sweep(label, stem, points, chosen))
    return out


def _point(r: RunReport, minority: list[str]) -> SweepPoint:
    per_seed = [s.test.get("per_class", {}) for s in r.record.per_seed.values() if s.test]
    accuracies = [mean([pc[c] for c in minority if pc.get(c) is not None]) for pc in per_seed]
    accuracies = [a for a in accuracies if a is not None]
    spread = statistics.pstdev(accuracies) if len(accuracies) > 1 else 0.0  # as RunRecord's std over seeds
    return SweepPoint(
        r.amount, r.record.metric("test", "score"), (mean(accuracies), spread), r.record.metric("val", "score")[0]
    )


def costs(runs: list[RunReport], making: dict[str, float] | None = None) -> list[RunCost]:
    """Each run's compute (as recorded; `making`: seconds that made each synthetic set) and its Score gain
    over its real-only reference."""
    making = making or {}
    by_name = {r.name: r for r in runs}
    newest_ce = next((r for r in reversed(runs) if r.kind == "ce"), None)
    out = []
    for r in runs:
        seconds = r.record.compute_seconds()
        if seconds is None:
            continue
        ref = None if r.kind == "ce" else by_name.get(_comparison_ce(r), newest_ce)
        score, base = (
            r.record.metric("test", "score")[0],
            None if ref is None else ref.record.metric("test", "score")[0],
        )
        gain = None if score is None or base is None else score - base
        made = making.get(r.synthetic_set, 0.0) if r.synthetic_set and r.kind != "ce-over" else 0.0
        out.append(RunCost(r.name, seconds / 3600, made / 3600, gain, None if ref is None else ref.name))
    return out


def _comparison_ce(r: RunReport) -> str:
    """The name of the `ce` run of the comparison `r` belongs to: its name without `-n<amount>`, the arm
    and the set, plus `-ce`."""
    name = _without_arm(r)
    if r.synthetic_set and name.endswith(f"-{r.synthetic_set}"):
        name = name[: -len(r.synthetic_set) - 1]
    return f"{name}-ce"


def _comparison_oversampling(r: RunReport) -> str:
    """The name of the comparison's `ce-over` run on the same set and amount as `r`."""
    m = AMOUNT_SUFFIX.match(r.name)
    return f"{_without_arm(r)}-ce-over" + (f"-n{m['amount']}" if m else "")


def _without_arm(r: RunReport) -> str:
    name = AMOUNT_SUFFIX.sub(r"\g<stem>", r.name)
    for arm in sorted(ARMS, key=len, reverse=True):
        if name.endswith(f"-{arm}"):
            return name[: -len(arm) - 1]
    return name


def differences(runs: list[RunReport], test_rows: list[dict], fingerprint: list) -> list[tuple[str, Difference]]:
    """(run, difference) for every run but real-only ones: against its comparison's `ce` run (else the newest
    real-only run) and its `ce-over` run on the same set and amount, when those exist."""
    by_name = {r.name: r for r in runs}
    newest_ce = next((r for r in reversed(runs) if r.kind == "ce"), None)
    out = []
    for r in runs:
        if r.kind == "ce" or r.run_dir is None:
            continue
        refs = [("ce", by_name.get(_comparison_ce(r), newest_ce))]
        if r.kind != "ce-over":
            refs.append(("ce-over", by_name.get(_comparison_oversampling(r))))
        for label, ref in refs:
            if ref is None or ref.run_dir is None:
                continue
            d = difference_of(
                f"{label} ({ref.name})", (r.run_dir, r.record), (ref.run_dir, ref.record), test_rows, fingerprint
            )
            if d is not None:
                out.append((r.name, d))
    return out
