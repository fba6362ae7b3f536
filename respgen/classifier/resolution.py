"""Differences a reader can trust: a run's test Score against a reference run's (CE, oversampling), paired.

- Over seeds: the runs share their seeds (compare trains every arm with the same ones), so the difference is
  taken seed by seed and given a 95 % t-interval (scipy.stats.t) when there are two seeds or more.
- Over test cycles: the per-cycle predictions both runs recorded (`predictions.json`) are resampled
  together, the same cycles for both (a paired bootstrap, scipy.stats.bootstrap, percentile 95 % interval of
  the seed-averaged Score difference).

The verdict is "better" or "worse" only when every interval there is excludes zero on the same side, and
"cannot tell at this size" otherwise; with one seed only the bootstrap speaks and the verdict says so."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from respgen.classifier.predictions import read_predictions
from respgen.classifier.run_record import RunRecord, seed_dir

CONFIDENCE = 0.95
RESAMPLES = 1000


@dataclass
class Difference:
    reference: str  # the run compared with, e.g. "ce"
    difference: float  # mean over the shared seeds of Score(run) - Score(reference)
    seeds: int  # shared seeds
    seed_interval: tuple[float, float] | None  # 95 % t-interval over seeds (None with one seed)
    cycle_interval: tuple[float, float] | None  # 95 % paired bootstrap over test cycles (None without predictions)
    cycles: int  # test cycles both runs predicted
    verdict: str  # better / worse / cannot tell at this size

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        """e.g. `+2.1 points, seeds [-1.0, +5.2], test cycles [-3.0, +7.1]: cannot tell at this size`."""

        def span(x: tuple[float, float] | None, what: str) -> str:
            return f"{what} not measured" if x is None else f"{what} [{100 * x[0]:+.1f}, {100 * x[1]:+.1f}]"

        return (
            f"{100 * self.difference:+.1f} points vs {self.reference}, {span(self.seed_interval, 'seeds')}, "
            f"{span(self.cycle_interval, f'{self.cycles} test cycles')}: {self.verdict}"
        )


def score(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """The ICBHI Score of integer predictions, the normal class being class 0: `metrics.icbhi_scores`'
    definition computed directly on the arrays (the bootstrap calls it thousands of times)."""
    normal = truth == 0
    sp = float(np.mean(predicted[normal] == 0)) if normal.any() else float("nan")
    se = float(np.mean(predicted[~normal] == truth[~normal])) if (~normal).any() else float("nan")
    return (sp + se) / 2


def paired_difference(
    reference: str,
    run_scores: dict[int, float],
    ref_scores: dict[int, float],
    truth: np.ndarray | None = None,
    run_predicted: dict[int, np.ndarray] | None = None,
    ref_predicted: dict[int, np.ndarray] | None = None,
    n_classes: int = 0,
    seed: int = 0,
) -> Difference | None:
    """The difference of a run to `reference` over their shared seeds (`*_scores`: test Score by seed) and,
    given per-cycle `truth` and each seed's predicted classes (aligned with `truth`), over test cycles."""
    shared = [s for s in run_scores if s in ref_scores]
    if not shared:
        return None
    diffs = np.array([run_scores[s] - ref_scores[s] for s in shared])
    seed_interval = None
    if len(diffs) > 1:
        half = stats.t.ppf(0.5 + CONFIDENCE / 2, len(diffs) - 1) * diffs.std(ddof=1) / np.sqrt(len(diffs))
        seed_interval = (float(diffs.mean() - half), float(diffs.mean() + half))
    cycle_interval, cycles = None, 0
    both = [s for s in shared if run_predicted and ref_predicted and s in run_predicted and s in ref_predicted]
    if truth is not None and both:
        cycles = len(truth)
        cycle_interval = _bootstrap(
            truth, [run_predicted[s] for s in both], [ref_predicted[s] for s in both], n_classes, seed
        )
    verdict = _verdict([x for x in (seed_interval, cycle_interval) if x is not None], len(diffs) > 1)
    return Difference(reference, float(diffs.mean()), len(diffs), seed_interval, cycle_interval, cycles, verdict)


def _bootstrap(truth, run_predicted: list, ref_predicted: list, n_classes: int, seed: int) -> tuple[float, float]:
    """95 % percentile interval of the seed-averaged Score difference, the test cycles resampled together."""

    def statistic(idx: np.ndarray) -> float:
        t = truth[idx]
        return float(
            np.mean(
                [
                    score(t, a[idx], n_classes) - score(t, b[idx], n_classes)
                    for a, b in zip(run_predicted, ref_predicted)
                ]
            )
        )

    result = stats.bootstrap(
        (np.arange(len(truth)),),
        statistic,
        vectorized=False,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    ci = result.confidence_interval
    return float(ci.low), float(ci.high)


def _verdict(intervals: list[tuple[float, float]], seeds_measured: bool) -> str:
    if not intervals:
        return "cannot tell at this size"
    if all(lo > 0 for lo, _ in intervals):
        verdict = "better"
    elif all(hi < 0 for _, hi in intervals):
        verdict = "worse"
    else:
        return "cannot tell at this size"
    return verdict if seeds_measured else f"{verdict} on these test cycles (one seed: seeds not measured)"


def difference_of(
    reference: str,
    run: tuple[Path, RunRecord],
    ref: tuple[Path, RunRecord],
    test_rows: list[dict],
    manifest_fingerprint: list,
) -> Difference | None:
    """`paired_difference` of two finished runs (run dir, record): their per-seed test Scores and the
    per-cycle predictions each seed recorded (`predictions.json`) on `test_rows` (the workspace's test
    split, whose manifest has `manifest_fingerprint`)."""
    classes = list(run[1].classes)
    ids = [r["id"] for r in sorted(test_rows, key=lambda r: r["id"]) if r["label"] in classes]
    truth = np.array(
        [classes.index(r["label"]) for r in sorted(test_rows, key=lambda r: r["id"]) if r["label"] in classes]
    )
    predicted = [_predicted(d, rec, ids, classes, manifest_fingerprint) for d, rec in (run, ref)]
    return paired_difference(
        reference,
        _scores(run[1]),
        _scores(ref[1]),
        truth if ids else None,
        predicted[0],
        predicted[1],
        len(classes),
    )


def _scores(record: RunRecord) -> dict[int, float]:
    return {s: r.test["score"] for s, r in record.per_seed.items() if r.test and r.test.get("score") is not None}


def _predicted(run_dir: Path, record: RunRecord, ids: list[str], classes: list[str], fingerprint: list) -> dict:
    """{seed: predicted class per id} from each seed's recorded test probabilities (seeds without: left out)."""
    out = {}
    for s in record.seeds:
        stored = read_predictions(seed_dir(run_dir, record.seeds, s), "test", classes, fingerprint)
        if stored is not None and all(i in stored for i in ids):
            out[s] = np.array([int(np.argmax(stored[i])) for i in ids])
    return out
