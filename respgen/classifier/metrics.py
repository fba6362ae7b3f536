"""ICBHI metrics: Specificity (normal accuracy), Sensitivity (exact-class hits over all abnormal
cycles), Score = their mean; plus per-class accuracy and the confusion matrix."""

from __future__ import annotations

import numpy as np


def confusion_matrix(targets, predictions, n_classes: int) -> np.ndarray:
    """rows = true class, columns = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(targets, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return cm


def icbhi_scores(cm: np.ndarray, classes: tuple[str, ...], normal: str = "normal") -> dict:
    """From a confusion matrix: sp, se, score (fractions), per-class accuracy, the matrix itself."""
    n = classes.index(normal)
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
        "accuracy": float(np.trace(cm) / cm.sum()) if cm.sum() else float("nan"),
        "per_class": per_class,
        "confusion": cm.tolist(),
        "n": int(cm.sum()),
    }
