"""The one `mean` the quality measures use: the arithmetic mean of what was measured, None when nothing was."""

from __future__ import annotations

import statistics


def mean(values: list[float]) -> float | None:
    """The mean of `values`; None for an empty list (a class with no measured clips)."""
    return statistics.fmean(values) if values else None
