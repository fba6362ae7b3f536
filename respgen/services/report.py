"""`report`: `<workdir>/report/report.md` with PNGs: class counts, every synthetic set's fidelity, realism
and diversity with real vs synthetic mels, the classifier's feature space, every run's metrics side by
side. The numbers are computed once (`report.model`), then rendered (`report.markdown`, `report.figures`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from respgen.atomic import staged_dir, write_text
from respgen.config import ReportConfig
from respgen.lock import locked
from respgen.report import figures as report_figures
from respgen.report import markdown
from respgen.report.model import as_json, build_model
from respgen.workspace import Workspace


@dataclass
class ReportResult:
    report: str
    figures: list[str]
    runs: list[str]
    frechet: dict[str, float | None]
    discriminator_accuracy: float | None
    # {"sets": {name: {counts, fidelity, realism, diversity}}, plus the default set's fidelity / realism / diversity}
    synthetic: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@locked("report")
def build_report(cfg: ReportConfig) -> ReportResult:
    """Write `report/report.md` and its PNGs (the folder is rebuilt in staging and swapped in whole).

    Reads the workspace's manifests (`data/`, every synthetic set under `synth/`), every finished run in
    `models/` (its `metrics.json` and `respgen.json`) and, for label agreement and the feature-space
    numbers, `cfg.model` (default: the newest real-only run, and `models/latest`)."""
    ws = Workspace(cfg.workdir)
    model = build_model(ws, cfg.model, cfg.max_per_class)
    with staged_dir(ws.report) as staging:
        drawn = report_figures.draw(model, staging)
        write_text(staging / "report.md", markdown.render(model, drawn))
    data = as_json(model)
    fs = model.feature_space
    return ReportResult(
        report=str(ws.report_md),
        figures=list(drawn.values()),
        runs=data["runs"],
        frechet={} if fs is None else fs.frechet,
        discriminator_accuracy=None if fs is None else fs.discriminator_accuracy,
        synthetic=data["synthetic"],
        missing=model.missing,
    )
