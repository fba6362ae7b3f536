"""`report`: `<workdir>/report/` with `index.html` (playable: real vs synthetic pairs and a run's
errors as audio excerpts beside their mels) and `report.md`, the same sections from the same numbers:
class counts, every synthetic set's fidelity, realism and diversity, the classifier's feature space,
every run's metrics side by side with its curves and confusion matrix. The numbers are computed once
(`report.model`), then rendered (`report.markdown`, `report.html`) with the PNGs (`report.figures`) and
excerpts (`report.media`) written beside them."""

from __future__ import annotations

import time
import webbrowser
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from respgen.atomic import staged_dir, write_text
from respgen.config import ReportConfig
from respgen.lock import locked
from respgen.report import figures as report_figures
from respgen.report import html, markdown, media
from respgen.report.model import as_json, build_model
from respgen.workspace import Workspace

HTML_FILE = "index.html"


@dataclass
class ReportResult:
    report: str
    figures: list[str]
    runs: list[str]
    classes: list[str]  # the workspace's, normal first
    real_counts: dict[str, int]  # train cycles per class
    frechet: dict[str, float | None]
    discriminator_accuracy: float | None
    # {"sets": {name: {counts, fidelity, realism, diversity}}, plus the default set's fidelity / realism / diversity}
    synthetic: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    html: str = ""
    media: list[str] = field(default_factory=list)  # the excerpts' WAVs and mel PNGs, relative to report/
    listening: dict = field(default_factory=dict)  # per set: the pairs played (class, pick, mel L1, ids)
    evaluations: dict = field(default_factory=dict)  # run -> its `evaluate` results on other workspaces
    sweeps: list = field(default_factory=list)  # amount sweeps: per amount Score, minority accuracy, val choice
    costs: list = field(default_factory=list)  # per run: compute hours, Score gain over real only, per hour
    differences: list = field(default_factory=list)  # per run: paired Score difference to ce / ce-over, verdict
    errors: dict | None = None  # the run whose errors are played, and them (None: no errors section)
    opened: bool = False  # index.html was handed to a browser (`open`)
    seconds: dict[str, float] = field(default_factory=dict)  # where the time went

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@contextmanager
def one_thread():
    """Torch on one thread while the report runs: its work is thousands of small tensors (mels, fbanks
    of short clips), where intra-op threads cost more than they bring, many times over on a shared
    2-core machine. The previous setting is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@locked("report")
def build_report(cfg: ReportConfig) -> ReportResult:
    """Write `report/index.html`, `report/report.md`, their PNGs and (unless `cfg.audio` is off) the WAV
    excerpts index.html plays; the folder is rebuilt in staging and swapped in whole.

    Reads the workspace's manifests (`data/`, every synthetic set under `synth/`), every finished run in
    `models/` (its `metrics.json` and `respgen.json`), for label agreement and the feature-space numbers
    `cfg.model` (default: the newest real-only run, and `models/latest`), and for the errors section the
    model of `cfg.run` (default: `models/latest`). With `cfg.open`, opens index.html in the default
    browser where there is one (no error where there is none)."""
    ws = Workspace(cfg.workdir)
    with one_thread():
        model = build_model(ws, cfg.model, cfg.max_per_class, cfg.run, cfg.errors_per_class)
        seconds = dict(model.seconds)
        with staged_dir(ws.report) as staging:
            clock = time.perf_counter()
            drawn = report_figures.draw(model, staging)
            seconds["figures"] = round(time.perf_counter() - clock, 3)
            clock = time.perf_counter()
            written = media.write(model, staging, audio=cfg.audio)
            seconds["excerpts"] = round(time.perf_counter() - clock, 3)
            write_text(staging / "report.md", markdown.render(model, drawn, audio=cfg.audio))
            write_text(staging / HTML_FILE, html.render(model, drawn, audio=cfg.audio))
    data = as_json(model)
    fs = model.feature_space
    page = ws.report / HTML_FILE
    return ReportResult(
        report=str(ws.report_md),
        figures=list(drawn.values()),
        runs=data["runs"],
        classes=data["classes"],
        real_counts=data["real_counts"],
        frechet={} if fs is None else fs.frechet,
        discriminator_accuracy=None if fs is None else fs.discriminator_accuracy,
        synthetic=data["synthetic"],
        missing=model.missing,
        html=str(page),
        media=written,
        listening=data["listening"],
        evaluations=data["evaluations"],
        sweeps=data["sweeps"],
        costs=data["costs"],
        differences=data["differences"],
        errors=data["errors"],
        opened=open_in_browser(page) if cfg.open else False,
        seconds=seconds,
    )


def open_in_browser(page) -> bool:
    """Hand `page` to the default browser; False (no error) where there is none or it fails."""
    try:
        return bool(webbrowser.open(page.resolve().as_uri()))
    except (webbrowser.Error, OSError):
        return False
