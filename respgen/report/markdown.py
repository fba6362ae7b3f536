"""report.md, rendered from a `ReportModel` alone (figures are named here and drawn by `report.figures`)."""

from __future__ import annotations

from respgen.diversity import diversity_sentence
from respgen.report.model import ReportModel, RunReport, SyntheticSetReport


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


def render(model: ReportModel, figures: dict[str, str]) -> str:
    """The whole report.md; `figures`: figure key -> file name (those drawn)."""
    md = ["# respgen report", "", f"Workspace: `{model.workspace}`", ""]
    if model.missing:
        md += ["## Missing", ""] + [f"- {line}" for line in model.missing] + [""]
    md += _counts(model, figures)
    md += _sets(model, figures)
    md += _feature_space(model)
    md += _runs(model, figures)
    if "vocoder-validation" in figures:
        md += ["## Vocoder validation", "", f"![vocoder validation distance]({figures['vocoder-validation']})", ""]
    return "\n".join(md) + "\n"


def _counts(model: ReportModel, figures: dict[str, str]) -> list[str]:
    names = [s.name for s in model.sets]
    md = [
        "## Cycles per class (train)",
        "",
        "| class | real | " + " | ".join(f"synthetic ({n})" for n in names) + (" |" if names else "|"),
        "|---|--:|" + "--:|" * len(names),
    ]
    for c in model.classes:
        md.append(f"| {c} | {model.real_counts[c]} | " + " | ".join(str(s.counts.get(c, 0)) for s in model.sets) + " |")
    if "counts" in figures:
        md += ["", f"![cycles per class]({figures['counts']})"]
    return md + [""]


def _sets(model: ReportModel, figures: dict[str, str]) -> list[str]:
    md = ["## Synthetic sets", ""]
    if not model.sets:
        return md + ["No synthetic cycles in the workspace (run `respgen synth`).", ""]
    md += [
        "Per set and class. *mel L1*: log-mel distance (the vocoder's mel, values in [0, 1]) of each synthetic "
        "cycle to the real cycle it was conditioned on, beside Gaussian noise of the same loudness and two "
        "different real cycles of the class. *label agreement*: the share a classifier trained on real cycles "
        "only labels as the class. *realism*: accuracy of a fresh logistic regression telling the class's "
        "synthetic cycles from held-out real ones, cross-validated (50% = indistinguishable), on the real-only "
        "model's features and on model-free log-mel statistics. *copy ratio*: mel L1 to the source as a "
        "fraction of the real-vs-real distance (small = near-copies).",
        "",
        f"Real-only model: `{model.label_model}`." if model.label_model else "Real-only model: none.",
        "",
    ]
    for s in model.sets:
        md += _set(s, figures)
    return md


def _set(s: SyntheticSetReport, figures: dict[str, str]) -> list[str]:
    kinds = ", ".join(sorted({str((v or {}).get("kind", "diffwave")) for v in s.vocoder})) or "–"
    md = [
        f"### {s.name}",
        "",
        f"Vocoder: {kinds}.",
        "",
        "| class | n | mel L1 | noise | real-vs-real | label agreement | realism (model) | realism (fbank) | copy ratio |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    fid, real, div = (s.quality.get(k, {}) for k in ("fidelity", "realism", "diversity"))
    for c, f in fid.items():
        r, d = real.get(c, {}), div.get(c, {})
        md.append(
            f"| {c} | {f.get('n', '–')} | {num(f.get('mel_l1'))} | {num(f.get('mel_l1_noise'))} | "
            f"{num(f.get('mel_l1_real'))} | {share(f.get('label_agreement'))} | {share(r.get('model'))} | "
            f"{share(r.get('fbank'))} | {num(d.get('copy_ratio'), 2)} |"
        )
    md.append("")
    noisy = [c for c, f in fid.items() if f.get("mel_l1") is not None and f["mel_l1"] >= f["mel_l1_noise"]]
    if noisy:
        md += [
            f"**The {', '.join(noisy)} cycles of {s.name} are noise-like** (no closer to their source than noise).",
            "",
        ]
    md += [f"- {diversity_sentence(c, d)}" for c, d in div.items()] + [""]
    key = f"mels-{s.name}"
    if key in figures:
        md += [
            "Each row: a real train cycle (repeat-padded to the synthetic length, as `synth` conditions on it) and "
            "the synthetic cycle vocoded from its mel.",
            "",
            f"![real vs synthetic mels, {s.name}]({figures[key]})",
            "",
        ]
    return md


def _feature_space(model: ReportModel) -> list[str]:
    md = ["## Real vs synthetic in the classifier's feature space", ""]
    fs = model.feature_space
    if fs is None:
        return md + ["Needs synthetic cycles and a fine-tuned model.", ""]
    md += [
        f"Model: `{fs.model}`, synthetic set `{model.sets[0].name}` (pooled AST feature; Fréchet distance as in "
        f"FAD: lower = closer; at most {model.max_per_class} train cycles per class and source).",
        "",
        "| class | Fréchet distance real vs synthetic |",
        "|---|--:|",
    ]
    md += [f"| {c} | {num(v, 4)} |" for c, v in fs.frechet.items()] + [""]
    if fs.discriminator_accuracy is not None:
        md += [
            f"Discriminator real/synthetic accuracy on these cycles: {100 * fs.discriminator_accuracy:.1f}% "
            "(50% = it cannot tell them apart, which is what AFT pushes the encoder towards).",
            "",
        ]
    else:
        md += ["The model has no discriminator (not a `--adversary grl` AFT run): no discriminator accuracy.", ""]
    return md


def _runs(model: ReportModel, figures: dict[str, str]) -> list[str]:
    md = ["## Runs", ""]
    if not model.runs:
        return md + ["No fine-tuned models in the workspace (run `respgen finetune`).", ""]
    classes = model.classes
    md += [
        "Sp / Se / Score in % on the test split at the checkpoint chosen on the split named in *selected on*; "
        "mean ± std over seeds where a run has several; ordered by test Score. *probe acc*: a fresh "
        "logistic-regression probe telling real from synthetic train features of the run's model (50% = "
        "indistinguishable; runs with synthetic cycles only).",
        "",
        "| run | mode | set | seeds | selected on | epoch | test Sp | test Se | test Score | val Score | probe acc | "
        + " | ".join(f"test {c} acc" for c in classes)
        + " |",
        "|---|---|---|---|---|--:|--:|--:|--:|--:|--:|" + "--:|" * len(classes),
    ]
    ordered = sorted(model.runs, key=lambda r: -(r.record.metric("test", "score")[0] or -1.0))
    md += [_run_row(r, classes) for r in ordered] + [""]
    for r in model.runs:
        key = f"run-{r.name}"
        if key in figures:
            md += [f"### {r.name}", "", f"![{r.name}]({figures[key]})", ""]
    return md


def _run_row(r: RunReport, classes: list[str]) -> str:
    rec = r.record
    several = len(rec.seeds) > 1
    epochs = ", ".join(str(e) for e in rec.best_epochs() if e is not None) or "–"
    cells = [
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
    return "| " + " | ".join(cells) + " |"
