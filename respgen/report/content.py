"""What both views of the report say, from a `ReportModel`: the tables (cells as text) and the sentences
(Markdown inline syntax: `code`, *emphasis*, **strong**; `report.html` converts it). report.md
(`report.markdown`) and index.html (`report.html`) lay these out; neither formats a number itself."""

from __future__ import annotations

from dataclasses import dataclass

from respgen.diversity import diversity_sentence
from respgen.report.model import (
    EXCERPT_SECONDS,
    ErrorsReport,
    FeatureSpace,
    ListeningPair,
    Misclassified,
    ReportModel,
    RunReport,
    SyntheticSetReport,
)


def pct(x) -> str:
    return "–" if x is None or x != x else f"{100 * x:.2f}"


def mean_std(pair, several: bool) -> str:
    if pair is None or pair[0] is None:
        return "–"
    return f"{pct(pair[0])} ± {pct(pair[1])}" if several else pct(pair[0])


def num(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def share(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]  # right-aligned (and sorted as numbers in the HTML)


TITLE = "respgen report"
SECTIONS = {  # anchor -> heading, in the order both views show them
    "missing": "Missing",
    "counts": "Cycles per class (train)",
    "sets": "Synthetic sets",
    "feature-space": "Real vs synthetic in the classifier's feature space",
    "runs": "Runs",
    "evaluations": "Other datasets (respgen evaluate)",
    "study": "How much synthetic data, at what cost",
    "errors": "Errors, playable",
    "vocoder": "Vocoder validation",
}


def counts(model: ReportModel) -> Table:
    names = [s.name for s in model.sets]
    rows = [[c, str(model.real_counts[c]), *(str(s.counts.get(c, 0)) for s in model.sets)] for c in model.classes]
    return Table(["class", "real", *(f"synthetic ({n})" for n in names)], rows, [False] + [True] * (1 + len(names)))


SETS_NONE = "No synthetic cycles in the workspace (run `respgen synth`)."
SETS_INTRO = (
    "Per set and class. *mel L1*: log-mel distance (the vocoder's mel, values in [0, 1]) of each synthetic "
    "cycle to the real cycle it was conditioned on, beside Gaussian noise of the same loudness and two "
    "different real cycles of the class. *label agreement*: the share a classifier trained on real cycles "
    "only labels as the class. *realism*: accuracy of a fresh logistic regression telling the class's "
    "synthetic cycles from held-out real ones, cross-validated (50% = indistinguishable), on the real-only "
    "model's features and on model-free log-mel statistics. *copy ratio*: mel L1 to the source as a "
    "fraction of the real-vs-real distance (small = near-copies)."
)


def label_model(model: ReportModel) -> str:
    return f"Real-only model: `{model.label_model}`." if model.label_model else "Real-only model: none."


def vocoder_kinds(s: SyntheticSetReport) -> str:
    kinds = ", ".join(sorted({str((v or {}).get("kind", "diffwave")) for v in s.vocoder})) or "–"
    return f"Vocoder: {kinds}."


def set_quality(s: SyntheticSetReport) -> Table:
    header, rows = s.quality.table()
    return Table(header, rows, [False] + [True] * (len(header) - 1))


def noise_warning(s: SyntheticSetReport) -> str | None:
    """A warning when some class's cycles are on average no closer to their sources than noise."""
    noisy = s.quality.noise_like()
    if not noisy:
        return None
    return f"**The {', '.join(noisy)} cycles of {s.name} are noise-like** (no closer to their source than noise)."


def diversity_lines(s: SyntheticSetReport) -> list[str]:
    return [diversity_sentence(c, d.model_dump()) for c, d in s.quality.diversity.items()]


LISTEN_INTRO = (
    "Per class, the best, median and worst synthetic cycle by mel L1 to its source (fewer when the class has "
    "fewer cycles), each beside the real train cycle it was conditioned on, repeat-padded or cropped to the "
    f"synthetic length as `synth` conditions on it; excerpts of at most {EXCERPT_SECONDS:g} s, mels of the "
    "excerpts (time left to right, low frequencies at the bottom)."
)


def pair_title(p: ListeningPair) -> str:
    return f"{p.label}, {p.pick} ({p.rank} of {p.n}): mel L1 {num(p.mel_l1)}"


FEATURE_SPACE_NONE = "Needs synthetic cycles and a fine-tuned model."


def feature_space_intro(model: ReportModel, fs: FeatureSpace) -> str:
    return (
        f"Model: `{fs.model}`, synthetic set `{model.sets[0].name}` (pooled AST feature; Fréchet distance as in "
        f"FAD: lower = closer; at most {model.max_per_class} train cycles per class and source)."
    )


def frechet(fs: FeatureSpace) -> Table:
    return Table(
        ["class", "Fréchet distance real vs synthetic"], [[c, num(v, 4)] for c, v in fs.frechet.items()], [False, True]
    )


def discriminator(fs: FeatureSpace) -> str:
    if fs.discriminator_accuracy is None:
        return "The model has no discriminator (not a `--adversary grl` AFT run): no discriminator accuracy."
    return (
        f"Discriminator real/synthetic accuracy on these cycles: {100 * fs.discriminator_accuracy:.1f}% "
        "(50% = it cannot tell them apart, which is what AFT pushes the encoder towards)."
    )


RUNS_NONE = "No fine-tuned models in the workspace (run `respgen finetune`)."
RUNS_INTRO = (
    "Sp / Se / Score in % on the test split at the checkpoint chosen on the split named in *selected on*; "
    "mean ± std over seeds where a run has several; ordered by test Score. *probe acc*: a fresh "
    "logistic-regression probe telling real from synthetic train features of the run's model (50% = "
    "indistinguishable; runs with synthetic cycles only)."
)


def runs(model: ReportModel) -> Table:
    """Every run, best test Score first."""
    classes = model.classes
    header = [
        "run",
        "mode",
        "set",
        "seeds",
        "selected on",
        "epoch",
        "test Sp",
        "test Se",
        "test Score",
        "val Score",
        "probe acc",
        *(f"test {c} acc" for c in classes),
    ]
    numeric = [False] * 5 + [True] * (6 + len(classes))
    return Table(header, [_run_row(r, classes) for r in model.ranked_runs()], numeric)


def _run_row(r: RunReport, classes: list[str]) -> list[str]:
    rec = r.record
    several = len(rec.seeds) > 1
    epochs = ", ".join(str(e) for e in rec.best_epochs() if e is not None) or "–"
    return [
        r.name,
        r.mode,
        r.synthetic_set or "–",
        ",".join(map(str, rec.seeds)),
        rec.selected_on,
        epochs,
        *(mean_std(rec.metric("test", k), several) for k in ("sp", "se", "score")),
        mean_std(rec.metric("val", "score"), several),
        mean_std(rec.probe(), several),
        *(mean_std(rec.per_class("test").get(c), several) for c in classes),
    ]


SWEEP_INTRO = (
    "Runs that differ only in the synthetic (or augmented) cycles per class (`compare --synthetic-per-class`): "
    "test Score and the mean test accuracy of the non-normal classes, mean ± spread over seeds, and the val "
    "Score that picks the amount (★, chosen on val, never on test)."
)
COST_INTRO = (
    "Compute per run: training every seed (wall time as finetune recorded it) and making its synthetic set "
    "(every `synth` run of the set, plus the vocoder's training for a DiffWave set, as they recorded it; the "
    "whole set, even when a run used part of it), and its test Score gained over its real-only reference "
    "(the same comparison's `ce` run, else the newest real-only run), per hour of both."
)


def sweep_table(sweep) -> Table:
    rows = [
        [
            ("★ " if p.amount == sweep.chosen else "") + str(p.amount),
            mean_std(p.score, True),
            mean_std(p.minority, True),
            pct(p.val_score),
        ]
        for p in sweep.points
    ]
    return Table(["cycles per class", "test Score", "minority acc", "val Score"], rows, [True] * 4)


DIFFERENCES_INTRO = (
    "Each run's test Score against real-only training (`ce`) and oversampling (`ce-over`, same set and amount), "
    "paired: a 95% t-interval over the shared seeds and a 95% bootstrap over the test cycles (both runs' "
    "recorded predictions, resampled together). *better* / *worse* only when every interval excludes zero."
)


def differences(model: ReportModel) -> Table | None:
    def span(x) -> str:
        return "–" if x is None else f"[{100 * x[0]:+.1f}, {100 * x[1]:+.1f}]"

    rows = [
        [run, d.reference, f"{100 * d.difference:+.2f}", span(d.seed_interval), span(d.cycle_interval), d.verdict]
        for run, d in model.differences
    ]
    if not rows:
        return None
    header = ["run", "against", "Score difference (points)", "seeds 95%", "test cycles 95%", "verdict"]
    return Table(header, rows, [False, False, True, False, False, False])


def costs(model: ReportModel) -> Table | None:
    rows = [
        [
            c.run,
            f"{60 * c.hours:.1f}",
            f"{60 * c.making_hours:.1f}",
            "–" if c.gain is None else f"{100 * c.gain:+.2f}",
            "–" if c.gain_per_hour is None else f"{100 * c.gain_per_hour:+.1f}",
            c.reference or "–",
        ]
        for c in model.costs
    ]
    if not rows:
        return None
    header = ["run", "training (min)", "making its set (min)", "Score gain (points)", "gain per hour", "reference"]
    return Table(header, rows, [False, True, True, True, True, False])


EVALUATIONS_INTRO = (
    "Runs scored on another workspace's split with `respgen evaluate` (through a label map where the class "
    "lists differ): Sp, Se, Score and HS (harmonic mean of Sp and Se), over the split and per subset."
)


def evaluations(model: ReportModel) -> Table | None:
    """One row per run, evaluated workspace and part (the whole split, then each subset); None without any."""
    rows = []
    for r in model.runs:
        for ev in r.evaluations:
            parts = {"all": ev["scores"], **(ev.get("subsets") or {})}
            for part, s in parts.items():
                where = f"{ev.get('workspace', '?')} ({ev.get('split', 'test')})"
                rows.append(
                    [r.name, where, part, str(s.get("n", "–")), *(pct(s.get(k)) for k in ("sp", "se", "score", "hs"))]
                )
    if not rows:
        return None
    return Table(["run", "workspace", "part", "n", "Sp", "Se", "Score", "HS"], rows, [False] * 3 + [True] * 5)


def run_figure_caption(r: RunReport) -> str:
    first = f" (seed {r.record.seeds[0]}, the first of {len(r.record.seeds)})" if len(r.record.seeds) > 1 else ""
    return f"Confusion matrix of the selected checkpoint and training curves{first}."


def errors_intro(e: ErrorsReport) -> str:
    seed = " (a several-seed run: its first seed's model)" if e.several_seeds else ""
    check = ""
    if e.recorded_wrong is not None:
        agree = "as" if e.recorded_wrong == e.n_wrong else f"**not** as (it records {e.recorded_wrong})"
        check = f", {agree} its `metrics.json` confusion records"
    source = (
        "probabilities recorded by `finetune` for the saved weights"
        if e.predictions == "recorded"
        else "probabilities of the saved model, run again on the test split (the run recorded none)"
    )
    return (
        f"Run `{e.run}`{seed}: {e.n_wrong} of {e.n_test} test cycles labelled wrongly{check} ({source}). Per true class, "
        f"the {e.per_class} it got wrong most confidently (highest probability for the wrong class first), "
        f"with every class's probability; excerpts of at most {EXCERPT_SECONDS:g} s. Choose the run with `--run NAME`."
    )


def errors_table(e: ErrorsReport, wrong: list[Misclassified]) -> Table:
    labels = list(next(iter(wrong)).probabilities) if wrong else []
    rows = [[m.id, m.true, m.predicted, *(f"{100 * m.probabilities[c]:.1f}%" for c in labels)] for m in wrong]
    return Table(["cycle", "true", "predicted", *(f"p({c})" for c in labels)], rows, [False] * 3 + [True] * len(labels))


def errors_none(e: ErrorsReport, label: str) -> str:
    return f"No {label} test cycle labelled wrongly."
