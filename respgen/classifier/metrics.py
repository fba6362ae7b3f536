"""ICBHI metrics, for any class list: Specificity (recall of the normal class), Sensitivity (exact-class hits
over every other class's cycles, pooled), Score = their mean, HS = their harmonic mean (the SPRSound
challenge's second score); plus per-class accuracy and the confusion matrix. On ICBHI's four classes this is
the official definition, unchanged."""

from __future__ import annotations

import numpy as np


def confusion_matrix(targets, predictions, n_classes: int) -> np.ndarray:
    """rows = true class, columns = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(targets, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return cm


def icbhi_scores(cm: np.ndarray, classes: tuple[str, ...], normal: str | None = None) -> dict:
    """From a confusion matrix: sp, se, score, hs (fractions), per-class accuracy, the matrix itself.
    `normal`: the normal class (default: the first, as `prepare` orders a workspace's classes)."""
    n = classes.index(normal) if normal is not None else 0
    abnormal = [i for i in range(len(classes)) if i != n]
    normal_total = cm[n].sum()
    abnormal_total = sum(cm[i].sum() for i in abnormal)
    sp = float(cm[n, n] / normal_total) if normal_total else float("nan")
    se = float(sum(cm[i, i] for i in abnormal) / abnormal_total) if abnormal_total else float("nan")
    per_class = {c: (float(cm[i, i] / cm[i].sum()) if cm[i].sum() else None) for i, c in enumerate(classes)}
    return {
        "sp": sp,
        "se": se,
        "score": (sp + se) / 2,
        "hs": harmonic_score(sp, se),
        "accuracy": float(np.trace(cm) / cm.sum()) if cm.sum() else float("nan"),
        "per_class": per_class,
        "confusion": cm.tolist(),
        "n": int(cm.sum()),
    }


def harmonic_score(sp: float, se: float) -> float:
    """2 Sp Se / (Sp + Se); 0 when both are 0, NaN when either is NaN."""
    if np.isnan(sp) or np.isnan(se):
        return float("nan")
    return 2 * sp * se / (sp + se) if sp + se > 0 else 0.0


def subset_scores(
    ids: list[str], probabilities: np.ndarray, classes: tuple[str, ...], rows: dict[str, dict]
) -> dict[str, dict]:
    """`icbhi_scores` per named subset of a split (the `subset` of its manifest `rows`, by id: SPRSound's
    inter / intra); {} when no row has one."""
    out: dict[str, dict] = {}
    subsets = sorted({rows[i]["subset"] for i in ids if rows.get(i, {}).get("subset") is not None})
    for subset in subsets:
        pick = [k for k, i in enumerate(ids) if rows[i].get("subset") == subset]
        truth = [classes.index(rows[ids[k]]["label"]) for k in pick]
        predicted = probabilities[pick].argmax(1)
        out[subset] = icbhi_scores(confusion_matrix(truth, predicted, len(classes)), classes)
    return out
