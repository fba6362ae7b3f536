"""The report's plots, drawn from a `ReportModel` (plots.py holds the matplotlib code; the mels of the
excerpts are `report.media`'s)."""

from __future__ import annotations

from pathlib import Path

from respgen.report import plots
from respgen.report.model import ReportModel


def draw(model: ReportModel, out: Path) -> dict[str, str]:
    """Draw every figure the model has data for into `out`; returns figure key -> file name."""
    figures: dict[str, str] = {}
    synthetic = {c: sum(s.counts.get(c, 0) for s in model.sets[:1]) for c in model.classes}
    plots.class_counts(out / "counts.png", model.classes, model.real_counts, synthetic)
    figures["counts"] = "counts.png"
    for r in model.runs:
        seed = r.record.per_seed.get(r.record.seeds[0])
        split = "test" if seed is not None and seed.test is not None else "val"
        chosen = None if seed is None else seed.split(split)
        if seed is None or not seed.history or chosen is None or "confusion" not in chosen:
            continue  # a run without per-epoch metrics: nothing to plot
        name = f"run-{r.name}.png"
        plots.run_figure(out / name, r.name, r.record.classes, chosen["confusion"], seed.history, split)
        figures[f"run-{r.name}"] = name
    if model.sweeps:
        plots.amount_sweep(out / "sweep.png", model.sweeps)
        figures["sweep"] = "sweep.png"
    if model.vocoder_curve:
        plots.validation_curve(out / "vocoder-validation.png", *model.vocoder_curve)
        figures["vocoder-validation"] = "vocoder-validation.png"
    return figures
