"""The report's numbers, computed once from the workspace: `ReportModel`. Both views, report.md
(`report.markdown`) and index.html (`report.html`), are rendered from this model alone, with the files
`report.figures` and `report.media` draw and write from it; nothing here writes a file.

Besides the numbers the model holds the few audio excerpts the report plays (`Clip`): per synthetic set
and class the best, median and worst pair by mel L1 (`ListeningPair`), and the test cycles a run got
wrong most confidently (`ErrorsReport`)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from respgen.arms import arm_label, run_mode
from respgen.classifier.data import features_for_rows
from respgen.classifier.predictions import read_predictions
from respgen.classifier.resolution import Difference
from respgen.classifier.run_record import RunRecord, seed_dir
from respgen.classifier.store import INFO_FILE, find_runs, load_model_dir, read_info, run_info
from respgen.compute_log import making_seconds
from respgen.data.manifest import load_clip
from respgen.disk_memo import dir_fingerprint, file_fingerprint, memo
from respgen.errors import RespgenError
from respgen.features import fit_length, vocoder_mel
from respgen.fidelity import mel_l1
from respgen.frechet import frechet_distance
from respgen.report.study import RunCost, Sweep, costs, differences, sweeps
from respgen.sample_rate import SAMPLE_RATE
from respgen.set_quality import SetQuality
from respgen.synthetic_quality import measure_set
from respgen.workspace import Workspace

EXCERPT_SECONDS = 4.0  # the longest excerpt the report plays
PICKS = ("best", "median", "worst")  # the listening pairs of a class, by mel L1 to the source
ERRORS_PER_CLASS = 3
FEATURE_SPACE_VERSION = 1  # bump when `_feature_space` computes differently: cached results are recomputed


@dataclass
class Clip:
    """An excerpt the report plays and pictures: at most `EXCERPT_SECONDS` of 16 kHz audio and its
    vocoder mel ([n_mels, frames], values in [0, 1])."""

    id: str
    audio: np.ndarray
    mel: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


@dataclass
class ListeningPair:
    """A synthetic cycle and the real train cycle it was conditioned on (repeat-padded / cropped to the
    synthetic length, as `synth` conditions on it). `pick`: best / median / worst of the class's `n`
    cycles by `mel_l1` (the row's stored distance, or computed with `respgen.fidelity` without one);
    `rank`: 1-based position in that order (ties by id)."""

    label: str
    pick: str
    rank: int
    n: int
    mel_l1: float
    real: Clip
    synthetic: Clip


@dataclass
class SyntheticSetReport:
    name: str
    counts: dict[str, int]
    vocoder: list[dict]  # the distinct `vocoder` provenance of its rows
    quality: SetQuality  # fidelity, realism and diversity by class (respgen.synthetic_quality)
    pairs: list[ListeningPair] = field(default_factory=list)  # by class, then best / median / worst
    making_seconds: float = 0.0  # recorded for making it (synth runs, + vocoder training for DiffWave)


@dataclass
class RunReport:
    name: str
    kind: str  # the run's arm as finetune recorded it (`respgen.arms.run_mode`)
    mode: str  # its label
    synthetic_set: str | None
    record: RunRecord
    model_dir: Path | None  # the dir whose curves and confusion are shown (a several-seed run: its first seed)
    evaluations: list[dict] = field(default_factory=list)  # `respgen evaluate` on other workspaces, by file name
    amount: int | None = None  # synthetic (or augmented) cycles per class it was capped to (--synthetic-per-class)
    run_dir: Path | None = None  # the run's folder (a several-seed run's seed folders are in it)


@dataclass
class Misclassified:
    """A test cycle the run labelled wrongly: its true and predicted labels, the softmax probability of
    each class, and the excerpt played."""

    id: str
    true: str
    predicted: str
    probabilities: dict[str, float]
    clip: Clip


@dataclass
class ErrorsReport:
    """The test cycles a run got wrong most confidently, at most `per_class` per true class (most
    confident first). Predictions of the run's model (`model_dir`: a several-seed run's first seed) on
    the workspace's test split; `recorded_wrong`: the wrong predictions its `metrics.json` confusion
    records for that model, a check that the two agree (None when it records none)."""

    run: str
    model_dir: str
    n_test: int
    n_wrong: int
    recorded_wrong: int | None
    per_class: int
    by_class: dict[str, list[Misclassified]]  # every true class of the model, in its label order
    several_seeds: bool = False
    predictions: str = "recorded"  # recorded by finetune (predictions.json) | recomputed (older runs)


@dataclass
class FeatureSpace:
    model: str
    frechet: dict[str, float | None]
    discriminator_accuracy: float | None


@dataclass
class ReportModel:
    workspace: str
    classes: list[str]
    real_counts: dict[str, int]
    sets: list[SyntheticSetReport]
    label_model: str | None  # the real-only classifier behind label agreement and model realism
    feature_space: FeatureSpace | None
    runs: list[RunReport]
    vocoder_curve: tuple[list[int], list[float], list[float]] | None
    max_per_class: int
    missing: list[str] = field(default_factory=list)  # one line per part the workspace lacks
    errors: ErrorsReport | None = None
    errors_note: str | None = None  # why there is no errors section (None when there is one)
    seconds: dict[str, float] = field(default_factory=dict)  # time spent per part of the model
    sweeps: list[Sweep] = field(default_factory=list)  # runs differing only in the amount of synthetic data
    costs: list[RunCost] = field(default_factory=list)  # each run's compute and Score gain over real only
    differences: list[tuple[str, Difference]] = field(default_factory=list)  # (run, vs ce / ce-over), paired

    def ranked_runs(self) -> list[RunReport]:
        """The runs best first by mean test Score (runs without one last), as both views list them."""
        return sorted(self.runs, key=lambda r: -(r.record.metric("test", "score")[0] or -1.0))

    def synthetic_json(self) -> dict:
        """`report --json`'s `synthetic`: every set's quality under `sets.<name>`, and the default
        (first) set's `fidelity` / `realism` / `diversity` at the top, as before sets existed."""
        out: dict = {"sets": {s.name: {"counts": s.counts, **s.quality.to_dict()} for s in self.sets}}
        if self.sets:
            out.update(self.sets[0].quality.to_dict())
        return out


def build_model(
    ws: Workspace,
    model: Path | None,
    max_per_class: int,
    run: str | None = None,
    errors_per_class: int = ERRORS_PER_CLASS,
) -> ReportModel:
    """Every number of the report. `model`: the classifier for label agreement and the feature-space
    section (default: the newest real-only run, and `models/latest`). `run`: the run whose test errors
    are played (default: the one `models/latest` points to, else the newest); `errors_per_class` 0: none.
    A part the workspace lacks is a line in `missing`, not an error (except an unknown `run`)."""
    lap = _Laps()
    train = ws.real_rows(("train",))
    classes = list(ws.classes()) if ws.prepare_info.is_file() else sorted({r["label"] for r in train})
    runs = [_run(name, d, record) for name, d, record in find_runs(ws.models)]
    label_model = model if model is not None else _real_only_model(runs)
    half = _half_written(ws, runs)
    errors_run = _errors_run(ws, runs, run, half)  # before the slow parts: an unknown --run fails at once
    lap("runs")
    names = _ordered_sets(ws)
    sets = [_set(ws, n, train, classes, label_model, max_per_class) for n in names]
    lap("synthetic sets")
    missing = _missing_parts(sets, runs, label_model, half)
    fs_model = model or (ws.models_latest if ws.models_latest.exists() else None)
    models = _ModelCache()
    feature_space = None
    if sets and fs_model:
        feature_space = _cached_feature_space(ws, models, fs_model, classes, train, sets[0], max_per_class, missing)
    lap("feature space")
    errors, errors_note = _errors_section(ws, errors_run, models, errors_per_class, missing)
    lap("errors")
    return ReportModel(
        workspace=str(ws.root),
        classes=classes,
        real_counts={c: sum(1 for r in train if r["label"] == c) for c in classes},
        sets=sets,
        label_model=None if label_model is None else str(label_model),
        feature_space=feature_space,
        runs=runs,
        vocoder_curve=_validation_curve(ws),
        max_per_class=max_per_class,
        missing=missing,
        errors=errors,
        errors_note=errors_note,
        seconds=lap.seconds,
        sweeps=sweeps(runs, classes),
        costs=costs(runs, {s.name: s.making_seconds for s in sets}),
        differences=differences(runs, ws.real_rows(("test",)), file_fingerprint(ws.manifest, ws.root)),
    )


class _Laps:
    """The wall time of each part of the model (`ReportModel.seconds`): a call ends the part it names,
    timed from the end of the one before (or from the start)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._clock = time.perf_counter()

    def __call__(self, part: str) -> None:
        now = time.perf_counter()
        self.seconds[part] = round(now - self._clock, 3)
        self._clock = now


def _missing_parts(
    sets: list[SyntheticSetReport], runs: list[RunReport], label_model: Path | None, half: list[str]
) -> list[str]:
    """The report's `missing` lines for the synthetic sets, the runs and the half-written run folders."""
    missing = []
    if not sets:
        missing.append("no synthetic cycles (run `respgen synth`, e.g. `--vocoder griffinlim` without a GPU)")
    if not runs:
        missing.append("no finished fine-tuning runs (run `respgen finetune` or `respgen compare`)")
    elif label_model is None:
        missing.append("no real-only model for label agreement (run `respgen finetune --no-synthetic` or pass --model)")
    missing += [f"run folder {n} has no readable metrics.json (interrupted?): left out" for n in half]
    return missing


def _cached_feature_space(
    ws: Workspace,
    models: _ModelCache,
    fs_model: Path,
    classes: list[str],
    train: list[dict],
    syn: SyntheticSetReport,
    max_per_class: int,
    missing: list[str],
) -> FeatureSpace | None:
    """`_feature_space` of `fs_model` on the set `syn`, memoised in the workspace's quality cache; None
    (and a line in `missing`) when it cannot be computed."""
    syn_manifest = ws.synthetic_set(syn.name).manifest
    key = {
        "version": FEATURE_SPACE_VERSION,
        "model": dir_fingerprint(fs_model, ws.root),
        "synthetic": file_fingerprint(syn_manifest, ws.root),
        "real": file_fingerprint(ws.manifest, ws.root),
        "max_per_class": max_per_class,
    }

    def compute() -> dict:
        return asdict(_feature_space(ws, models.get(fs_model), fs_model, classes, train, syn, max_per_class))

    try:
        value = memo(ws.quality_cache / f"{syn.name}.feature-space.json", key, compute)
        return FeatureSpace(**{**value, "model": str(fs_model)})  # this workspace's path
    except RespgenError as e:  # e.g. models/latest points to a run whose weights are gone
        missing.append(f"no feature-space numbers: {e}")
        return None


def _errors_section(
    ws: Workspace,
    run: RunReport | _Unfinished | None,
    models: _ModelCache,
    per_class: int,
    missing: list[str],
) -> tuple[ErrorsReport | None, str | None]:
    """(the errors section or None, the note said in its place or None); a line in `missing` when the
    workspace lacks a part the section needs."""
    try:
        if per_class == 0:
            raise NoErrorsSection("Left out (`--errors-per-class 0`).")
        return _errors(ws, run, models, per_class), None
    except NoErrorsSection as e:
        if e.lacking:
            missing.append(f"{e.why}: no errors section")
        return None, e.note


class _ModelCache:
    """Each classifier loaded once per report (the feature-space model is usually the errors' run too)."""

    def __init__(self) -> None:
        self._loaded: dict[Path, tuple] = {}

    def get(self, model_dir: Path) -> tuple:
        key = model_dir.resolve()
        if key not in self._loaded:
            self._loaded[key] = load_model_dir(model_dir)
        return self._loaded[key]


def _ordered_sets(ws: Workspace) -> list[str]:
    """The synthetic sets present, the default one first (`finetune` uses it without --synthetic-set)."""
    names = ws.synthetic_sets()
    try:
        first = ws.default_synthetic_set()
    except RespgenError:  # several sets and none is the default
        first = None
    return ([first] if first else []) + [n for n in names if n != first]


def _run(name: str, d: Path, record: RunRecord) -> RunReport:
    info = run_info(d)
    train = info.get("training", {})
    counts = info.get("data", {}).get("counts", {})
    kind = train.get("mode")  # recorded by finetune; derived for runs made before it was
    if kind is None:
        kind = run_mode(bool(train.get("aft")), False, bool(sum(counts.get("train_synthetic", {}).values())))
    mode = arm_label(kind, train.get("adversary"))
    used = train.get("synthetic_set") if kind != "ce" else None
    amount = train.get("synthetic_per_class") if kind != "ce" else None
    model_dir = seed_dir(d, record.seeds)
    if not (model_dir / INFO_FILE).is_file():
        return RunReport(name, kind, mode, used, record, None, amount=amount, run_dir=d)
    return RunReport(name, kind, mode, used, record, model_dir, read_evaluations(model_dir), amount, d)


def read_evaluations(model_dir: Path) -> list[dict]:
    """The `evaluate` results kept beside a model (`evaluations/*.json`), by file name; unreadable ones skipped."""
    out = []
    for path in sorted((model_dir / "evaluations").glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("scores"), dict):
            out.append(doc)
    return out


def _real_only_model(runs: list[RunReport]) -> Path | None:
    """The newest run trained on real cycles only (its model dir), or None."""
    for run in reversed(runs):
        if run.kind == "ce" and run.model_dir is not None:
            return run.model_dir
    return None


def _half_written(ws: Workspace, runs: list[RunReport]) -> list[str]:
    """Run folders under models/ that are not finished runs (no readable metrics.json)."""
    if not ws.models.is_dir():
        return []
    done = {r.name for r in runs}
    return sorted(
        p.name
        for p in ws.models.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name not in done
    )


def _set(ws: Workspace, name: str, train: list[dict], classes: list[str], label_model: Path | None, max_per_class: int):
    syn_set = ws.synthetic_set(name)
    rows = syn_set.rows(require_audio=False)
    counts = {}
    for r in rows:
        counts[r["label"]] = counts.get(r["label"], 0) + 1
    vocoders = [json.loads(v) for v in sorted({json.dumps(r.get("vocoder"), sort_keys=True) for r in rows})]
    quality = measure_set(ws, name, label_model, max_per_class=max_per_class)
    kinds = {str((v or {}).get("kind", "diffwave")) for v in vocoders}
    made = making_seconds(syn_set.root, ws.vocoder, kinds)
    return SyntheticSetReport(name, counts, vocoders, quality, _pairs(ws, syn_set, rows, train, classes), made)


def pick_indices(n: int) -> list[tuple[str, int]]:
    """(pick, index) of the best, median and worst of n items sorted best first, each index once
    (2 items: best and worst; 1: best)."""
    out: list[tuple[str, int]] = []
    for pick, i in zip(PICKS, (0, (n - 1) // 2, n - 1)):
        if n and all(i != j for _, j in out):
            out.append((pick, i))
    return out


def excerpt(audio: torch.Tensor, seconds: float = EXCERPT_SECONDS) -> torch.Tensor:
    return audio[: int(seconds * SAMPLE_RATE)]


def clip_of(clip_id: str, audio: torch.Tensor) -> Clip:
    """The excerpt of `audio` the report plays, with its vocoder mel."""
    cut = excerpt(audio)
    return Clip(clip_id, cut.numpy().astype(np.float32), vocoder_mel(cut).numpy())


def _pairs(ws: Workspace, syn_set, rows: list[dict], train: list[dict], classes: list[str]) -> list[ListeningPair]:
    """Per class (in `classes` order), the best, median and worst synthetic cycle by mel L1 to its source,
    with that source."""
    by_id = {r["id"]: r for r in train}
    pairs = []
    present = {r["label"] for r in rows}
    for c in [c for c in classes if c in present] + sorted(present - set(classes)):
        mine = [r for r in rows if r["label"] == c and r.get("conditioned_on") in by_id]
        audio: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

        def load(row: dict) -> tuple[torch.Tensor, torch.Tensor]:
            """(synthetic, its source fitted to the synthetic length), loaded once."""
            if row["id"] not in audio:
                syn = load_clip(syn_set.manifest, row)
                audio[row["id"]] = syn, fit_length(load_clip(ws.manifest, by_id[row["conditioned_on"]]), syn.shape[0])
            return audio[row["id"]]

        def distance(row: dict) -> float:
            if row.get("mel_l1") is not None:
                return float(row["mel_l1"])
            return mel_l1(*load(row))

        ranked = sorted(((distance(r), r["id"], r) for r in mine), key=lambda t: (t[0], t[1]))
        for pick, i in pick_indices(len(ranked)):
            d, _, row = ranked[i]
            syn, real = load(row)
            pairs.append(
                ListeningPair(
                    c, pick, i + 1, len(ranked), d, clip_of(row["conditioned_on"], real), clip_of(row["id"], syn)
                )
            )
    return pairs


@torch.no_grad()
def _feature_space(
    ws: Workspace,
    loaded: tuple,
    model_dir: Path,
    classes: list[str],
    train: list[dict],
    syn: SyntheticSetReport,
    max_per_class: int,
) -> FeatureSpace:
    """Per-class Fréchet distance of real vs synthetic train cycles in a model's pooled features, and its
    discriminator's real/synthetic accuracy on them (a `grl` AFT model only). `loaded`: (model, info)."""
    model, info = loaded
    syn_set = ws.synthetic_set(syn.name)
    synthetic = syn_set.rows(require_audio=False)
    length, pad, fade_out = info.features.length, info.features.pad, info.features.fade_out
    frechet: dict[str, float | None] = {}
    real_feats, syn_feats = [], []
    for c in classes:
        r_rows = [r for r in train if r["label"] == c][:max_per_class]
        s_rows = sorted((r for r in synthetic if r["label"] == c), key=lambda r: r["id"])[:max_per_class]
        if len(r_rows) < 2 or len(s_rows) < 2:
            frechet[c] = None
            continue
        fr = model.pooled(features_for_rows(ws.manifest, r_rows, length, pad, fade_out)).numpy()
        fs = model.pooled(features_for_rows(syn_set.manifest, s_rows, length, pad, fade_out)).numpy()
        frechet[c] = frechet_distance(fr, fs)
        real_feats.append(fr)
        syn_feats.append(fs)
    disc = None
    if model.discriminator is not None and real_feats:
        r, s = torch.from_numpy(np.concatenate(real_feats)), torch.from_numpy(np.concatenate(syn_feats))
        correct = int((model.discriminator(r).argmax(-1) == 0).sum()) + int(
            (model.discriminator(s).argmax(-1) == 1).sum()
        )
        disc = correct / (len(r) + len(s))
    return FeatureSpace(str(model_dir), frechet, disc)


@dataclass
class _Unfinished:
    """`models/latest` points to a run that is not finished: why the errors section cannot show it."""

    why: str


class NoErrorsSection(Exception):
    """Why the report has no errors section: `note` is said in its place; `lacking` when the workspace
    lacks a part the section needs (then `why` is also a line of the report's `missing`)."""

    def __init__(self, note: str, why: str | None = None) -> None:
        super().__init__(note)
        self.note, self.why, self.lacking = note, why, why is not None

    @classmethod
    def lacks(cls, why: str) -> "NoErrorsSection":
        return cls(f"Not shown: {why}.", why)


def _errors_run(
    ws: Workspace, runs: list[RunReport], name: str | None, half: list[str]
) -> RunReport | _Unfinished | None:
    """The run whose errors are played: `name`, else the one `models/latest` points to (the run folder
    it lies in: a several-seed run's latest is its first seed's folder), else the newest; None without
    runs; `_Unfinished` when `models/latest` points to a run that is not finished."""
    by_name = {r.name: r for r in runs}
    if name is not None:
        if name in by_name:
            return by_name[name]
        have = ", ".join(by_name) or "none"
        why = " (it has no readable metrics.json)" if name in half else ""
        raise RespgenError(f"no finished run {name!r}{why} in the workdir (runs: {have})", ws.models)
    if not runs:
        return None
    if ws.models_latest.is_symlink() or ws.models_latest.is_dir():
        latest = _run_of_latest(ws)
        if latest in by_name:
            return by_name[latest]
        return _Unfinished(f"models/latest points to {latest}, which has no readable metrics.json")
    return runs[-1]


def _run_of_latest(ws: Workspace) -> str:
    """The name of the run folder `models/latest` points into (the run itself, or one of its seed folders)."""
    target = ws.models_latest.resolve()
    try:
        return target.relative_to(ws.models.resolve()).parts[0]
    except (ValueError, IndexError):  # a pointer made by hand to somewhere else
        return target.name


@torch.no_grad()
def _errors(ws: Workspace, run: RunReport | _Unfinished | None, models: _ModelCache, per_class: int) -> ErrorsReport:
    """The run's model on the test split: per true class, the `per_class` wrong predictions with the
    highest predicted-class probability (ties by id). The probabilities finetune recorded for the model
    (`predictions.json`) when they cover the test split, else the model is run on it. Raises
    `NoErrorsSection` saying why when there is nothing to show."""
    if run is None:
        raise NoErrorsSection("No run to show errors for (run `respgen finetune`).")
    if isinstance(run, _Unfinished):
        raise NoErrorsSection.lacks(run.why)
    if run.model_dir is None:
        raise NoErrorsSection.lacks(f"run {run.name} has no model dir")
    try:
        labels = read_info(run.model_dir).labels
    except RespgenError as e:
        raise NoErrorsSection.lacks(f"run {run.name}: {e}") from None
    test = sorted((r for r in ws.real_rows(("test",)) if r["label"] in labels), key=lambda r: r["id"])
    if not test:
        raise NoErrorsSection.lacks("no test cycles with the run's labels")
    p, source = _run_test_probabilities(ws, run, models, labels, test)
    wrong = [
        (-float(p[k].max()), row["id"], k) for k, row in enumerate(test) if labels[int(p[k].argmax())] != row["label"]
    ]
    by_class: dict[str, list[Misclassified]] = {c: [] for c in labels}
    for _, _, k in sorted(wrong):
        row = test[k]
        if len(by_class[row["label"]]) < per_class:
            by_class[row["label"]].append(
                Misclassified(
                    row["id"],
                    row["label"],
                    labels[int(p[k].argmax())],
                    {c: round(float(v), 4) for c, v in zip(labels, p[k])},
                    clip_of(row["id"], load_clip(ws.manifest, row)),
                )
            )
    seed = run.record.per_seed.get(run.record.seeds[0])
    recorded = None if seed is None or seed.test is None else seed.test.get("confusion")
    recorded_wrong = None if recorded is None else int(np.sum(recorded) - np.trace(np.asarray(recorded)))
    return ErrorsReport(
        run.name,
        str(run.model_dir),
        len(test),
        len(wrong),
        recorded_wrong,
        per_class,
        by_class,
        several_seeds=len(run.record.seeds) > 1,
        predictions=source,
    )


def _run_test_probabilities(
    ws: Workspace, run: RunReport, models: _ModelCache, labels: list[str], test: list[dict]
) -> tuple[np.ndarray, str]:
    """([N, classes] probabilities of the run's model on the `test` rows, `recorded` | `recomputed`): those
    finetune recorded (`predictions.json`) when they cover the rows, else the model run on them."""
    stored = read_predictions(run.model_dir, "test", labels, file_fingerprint(ws.manifest, ws.root))
    if stored is not None and all(r["id"] in stored for r in test):
        return np.stack([stored[r["id"]] for r in test]), "recorded"
    try:
        return _test_probabilities(ws, models.get(run.model_dir), test), "recomputed"
    except RespgenError as e:
        raise NoErrorsSection.lacks(f"run {run.name}: {e}") from None


def _test_probabilities(ws: Workspace, loaded: tuple, test: list[dict], batch_size: int = 32) -> np.ndarray:
    """[N, classes] probabilities of a loaded (model, info) on the test rows (runs without recorded ones),
    their features computed a batch at a time."""
    from respgen.classifier.training import predict_probabilities  # with the model: imports transformers

    model, info = loaded
    spec = info.features
    batches = (
        features_for_rows(ws.manifest, test[i : i + batch_size], spec.length, spec.pad, spec.fade_out)
        for i in range(0, len(test), batch_size)
    )
    return torch.cat([predict_probabilities(model, x, batch_size) for x in batches]).numpy()


def _validation_curve(ws: Workspace) -> tuple[list[int], list[float], list[float]] | None:
    """(steps, validation mel L1, noise baseline) from `vocoder/metrics.jsonl`; None without evaluations."""
    if not ws.vocoder_metrics.is_file():
        return None
    rows = [json.loads(line) for line in ws.vocoder_metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("val_mel_l1") is not None]
    if not rows:
        return None
    return [r["step"] for r in rows], [r["val_mel_l1"] for r in rows], [r["val_mel_l1_noise"] for r in rows]


def as_json(model: ReportModel) -> dict:
    """The model's numbers as JSON-ready data (no mel arrays)."""
    return {
        "classes": model.classes,
        "real_counts": model.real_counts,
        "synthetic": model.synthetic_json(),
        "label_model": model.label_model,
        "feature_space": None if model.feature_space is None else asdict(model.feature_space),
        "runs": [r.name for r in model.runs],
        "evaluations": {r.name: r.evaluations for r in model.runs if r.evaluations},
        "sweeps": [asdict(s) for s in model.sweeps],
        "costs": [{**asdict(c), "gain_per_hour": c.gain_per_hour} for c in model.costs],
        "differences": [{"run": run, **d.to_dict()} for run, d in model.differences],
        "listening": {
            s.name: [
                {
                    "label": p.label,
                    "pick": p.pick,
                    "rank": p.rank,
                    "n": p.n,
                    "mel_l1": p.mel_l1,
                    "real": p.real.id,
                    "synthetic": p.synthetic.id,
                }
                for p in s.pairs
            ]
            for s in model.sets
        },
        "errors": None if model.errors is None else _errors_json(model.errors),
        "missing": model.missing,
    }


def _errors_json(e: ErrorsReport) -> dict:
    return {
        "run": e.run,
        "model_dir": e.model_dir,
        "n_test": e.n_test,
        "n_wrong": e.n_wrong,
        "recorded_wrong": e.recorded_wrong,
        "predictions": e.predictions,
        "by_class": {
            c: [{"id": m.id, "predicted": m.predicted, "probabilities": m.probabilities} for m in wrong]
            for c, wrong in e.by_class.items()
        },
    }
