"""Which differences a comparison can resolve. Two sources of noise are put beside a difference in mean
test Score between two runs: the spread over seeds (a Welch t-test over the per-seed Scores, scipy's
`ttest_ind`, when both runs have two seeds or more) and the test split's size (the binomial standard error
of one Score: sqrt(Sp(1-Sp)/n_normal + Se(1-Se)/n_other) / 2). A difference is called resolved only when the
seeds say so (p < 0.05) and it exceeds twice the test split's standard error; with one seed, only the
second test applies and the verdict says the seeds were not measured. Rates are estimated as
(hits + 1) / (n + 2), so a split where a run gets every normal cycle right still has a spread."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from respgen.classifier.run_record import RunRecord

ALPHA = 0.05


@dataclass
class Resolution:
    difference: float  # mean test Score of the run minus the reference's
    seeds: tuple[int, int]  # seeds of the run and of the reference
    p_value: float | None  # Welch's t-test over seeds (None with fewer than 2 seeds on a side)
    test_se: float  # binomial standard error of one test Score on this test split
    resolved: bool
    verdict: str

    def to_dict(self) -> dict:
        return asdict(self)


def test_score_se(record: RunRecord) -> float:
    """The binomial standard error of a test Score on the run's test split (its first seed's confusion)."""
    seed = record.per_seed[record.seeds[0]]
    cm = np.asarray((seed.test or {}).get("confusion") or [[0]])
    n_normal, n_other = cm[0].sum(), cm[1:].sum()
    sp = (cm[0, 0] + 1) / (n_normal + 2)  # Laplace's estimate: a rate of 0 or 1 is not certainty
    se = (np.trace(cm[1:, 1:]) + 1) / (n_other + 2)
    var = (sp * (1 - sp) / n_normal if n_normal else 0.0) + (se * (1 - se) / n_other if n_other else 0.0)
    return float(math.sqrt(var) / 2)


def resolve(run: RunRecord, reference: RunRecord) -> Resolution | None:
    """How well the test Score difference between `run` and `reference` is resolved; None without test scores."""
    a = [s.test["score"] for s in run.per_seed.values() if s.test]
    b = [s.test["score"] for s in reference.per_seed.values() if s.test]
    if not a or not b:
        return None
    diff = float(np.mean(a) - np.mean(b))
    test_se = max(test_score_se(run), test_score_se(reference))
    p = None
    if len(a) > 1 and len(b) > 1:
        p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
        p = None if math.isnan(p) else p
    beyond_split = abs(diff) > 2 * test_se
    resolved = beyond_split and p is not None and p < ALPHA
    seeds = "one seed a side: seed spread not measured" if p is None else f"seeds p = {p:.2f}"
    verdict = f"{100 * diff:+.1f} points; {seeds}; test split ± {100 * test_se:.1f} points: " + (
        "resolved" if resolved else "not resolved"
    )
    return Resolution(diff, (len(a), len(b)), p, test_se, resolved, verdict)
