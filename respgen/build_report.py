"""`report`: `<workdir>/report/report.md` with PNGs — class counts, real vs synthetic mels, Fréchet
distances in the classifier's feature space, discriminator accuracy, every run's metrics side by side."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from respgen.atomic import staged_dir, write_text
from respgen.classifier.data import features_for_rows
from respgen.classifier.store import find_runs, load_model_dir, read_metrics, run_info
from respgen.config import ReportConfig
from respgen.data.manifest import load_clip
from respgen.features import fit_length, vocoder_mel
from respgen.fidelity import class_summary, label_agreement, predict_labels, real_l1, rows_fidelity
from respgen.lock import locked
from respgen.report import plots
from respgen.report.frechet import frechet_distance
from respgen.workspace import Workspace


@dataclass
class ReportResult:
    report: str
    figures: list[str]
    runs: list[str]
    frechet: dict[str, float | None]
    discriminator_accuracy: float | None
    # {"fidelity": {class: {mel_l1, mel_l1_noise, mel_l1_real, label_agreement}}}
    synthetic: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def pct(x) -> str:
    return "–" if x is None or x != x else f"{100 * x:.2f}"


@locked("report")
def build_report(cfg: ReportConfig) -> ReportResult:
    """Write `report/report.md` and its PNGs (the folder is rebuilt in staging and swapped in whole).

    Reads the workspace's manifests (`data/`, `synth/`), every finished run in `models/` (its
    `metrics.json` and `respgen.json`) and, for the feature-space numbers, the model `cfg.model`
    (default `models/latest`)."""
    ws = Workspace(cfg.workdir)
    train = ws.real_rows(("train",))
    synthetic = ws.synthetic_rows()
    runs = find_runs(ws.models)
    classes = list(ws.classes()) if ws.prepare_info.is_file() else sorted({r["label"] for r in train})
    with staged_dir(ws.report) as staging:
        md, figures, frechet, disc = _write(ws, cfg, classes, train, synthetic, runs, staging)
        fidelity_md, fidelity = _fidelity(ws, cfg, classes, train, synthetic, staging, figures)
        write_text(staging / "report.md", md + fidelity_md)
    return ReportResult(str(ws.report_md), figures, [n for n, _, _ in runs], frechet, disc, {"fidelity": fidelity})


def _write(ws, cfg, classes, train, synthetic, runs, out: Path):
    figures = []
    real_counts = {c: sum(1 for r in train if r["label"] == c) for c in classes}
    syn_counts = {c: sum(1 for r in synthetic if r["label"] == c) for c in classes}
    md = [
        "# respgen report",
        "",
        f"Workspace: `{ws.root}`",
        "",
        "## Cycles per class (train)",
        "",
        "| class | real | synthetic added | total |",
        "|---|--:|--:|--:|",
    ]
    md += [f"| {c} | {real_counts[c]} | {syn_counts[c]} | {real_counts[c] + syn_counts[c]} |" for c in classes]
    plots.class_counts(out / "counts.png", classes, real_counts, syn_counts)
    figures.append("counts.png")
    md += ["", "![cycles per class](counts.png)", ""]

    by_id = {r["id"]: r for r in train}
    pairs = []
    for c in classes:
        syn = sorted(
            (r for r in synthetic if r["label"] == c and r.get("conditioned_on") in by_id), key=lambda r: r["id"]
        )
        if syn:
            s = syn[0]
            syn_audio = load_clip(ws.synth_manifest, s)
            real_audio = fit_length(load_clip(ws.manifest, by_id[s["conditioned_on"]]), syn_audio.shape[0])
            pairs.append(
                (c, s["conditioned_on"], vocoder_mel(real_audio).numpy(), s["id"], vocoder_mel(syn_audio).numpy())
            )
    md += ["## Real vs synthetic mel spectrograms", ""]
    if pairs:
        plots.mel_pairs(out / "mels.png", pairs)
        figures.append("mels.png")
        md += [
            "Each row: a real train cycle (repeat-padded to the synthetic length, as `synth` conditions on it) "
            "and the synthetic cycle vocoded from its mel.",
            "",
            "![real vs synthetic mels](mels.png)",
            "",
        ]
    else:
        md += ["No synthetic cycles in the workspace (run `respgen synth`).", ""]

    frechet, disc = _feature_space(ws, cfg, classes, train, synthetic, md)

    md += ["## Runs", ""]
    if not runs:
        md += ["No fine-tuned models in the workspace (run `respgen finetune`).", ""]
    else:
        md += [
            "Sp / Se / Score in % on the test split at the checkpoint chosen on the split named in *selected on*; "
            "mean ± std over seeds where a run has several. *probe acc*: a fresh logistic-regression probe "
            "telling real from synthetic train features of the run's model (50% = indistinguishable; runs with "
            "synthetic cycles only).",
            "",
            "| run | mode | selected on | epoch | test Sp | test Se | test Score | val Score | probe acc | "
            + " | ".join(f"test {c} acc" for c in classes)
            + " |",
            "|---|---|---|--:|--:|--:|--:|--:|--:|" + "--:|" * len(classes),
        ]
        for name, d, m in runs:
            md.append(_run_row(name, d, m, classes))
        md.append("")
        for name, d, m in runs:
            single = m if "history" in m else None
            if single is None and m.get("seeds"):
                seed_dir = d / f"seed-{m['seeds'][0]}"
                single = read_metrics(seed_dir)
            if single is None:  # a run folder without per-epoch metrics: nothing to plot
                continue
            split = "test" if "test" in single else "val"
            fig = f"run-{name}.png"
            plots.run_figure(out / fig, name, single["classes"], single[split]["confusion"], single["history"], split)
            figures.append(fig)
            md += [f"### {name}", "", f"![{name}]({fig})", ""]
    return "\n".join(md) + "\n", figures, frechet, disc


def _run_row(name: str, d: Path, m: dict, classes) -> str:
    info = run_info(d)
    train = info.get("training", {})
    syn = sum(info.get("data", {}).get("counts", {}).get("train_synthetic", {}).values())
    mode = "AFT" if train.get("aft") else ("CE + synthetic" if syn else "CE")
    if train.get("aft") and train.get("adversary"):
        mode += f" ({train['adversary']})"
    align = m.get("alignment") or {}
    probe = pct(align.get("probe_acc"))
    if "probe_acc_std" in align and align.get("probe_acc") is not None:
        probe += f" ± {pct(align['probe_acc_std'])}"
    if "mean" in m:
        mean, std = m["mean"], m["std"]

        def ms(split, k):
            return f"{pct(mean[split][k])} ± {pct(std[split][k])}" if split in mean else "–"

        return (
            f"| {name} | {mode} | {m['selected_on']} | – | {ms('test', 'sp')} | {ms('test', 'se')} | {ms('test', 'score')} | "
            f"{ms('val', 'score')} | {probe} | " + " | ".join("–" for _ in classes) + " |"
        )
    test, val = m.get("test", {}), m.get("val", {})
    per = test.get("per_class", {})
    return (
        f"| {name} | {mode} | {m['selected_on']} | {m['best_epoch']} | {pct(test.get('sp'))} | {pct(test.get('se'))} | "
        f"{pct(test.get('score'))} | {pct(val.get('score'))} | {probe} | "
        + " | ".join(pct(per.get(c)) for c in classes)
        + " |"
    )


def _feature_space(ws, cfg, classes, train, synthetic, md):
    """Per-class Fréchet distance real vs synthetic in the classifier's pooled features, and the
    discriminator's real/synthetic accuracy (AFT models)."""
    md += ["## Real vs synthetic in the classifier's feature space", ""]
    model_dir = cfg.model or ws.models_latest
    if not synthetic or not model_dir.exists():
        md += ["Needs synthetic cycles and a fine-tuned model.", ""]
        return {}, None
    model, info = load_model_dir(model_dir)
    length, pad = info.features.length, info.features.pad
    frechet: dict[str, float | None] = {}
    real_feats, syn_feats = [], []
    with torch.no_grad():
        for c in classes:
            r_rows = [r for r in train if r["label"] == c][: cfg.max_per_class]
            s_rows = sorted((r for r in synthetic if r["label"] == c), key=lambda r: r["id"])[: cfg.max_per_class]
            if len(r_rows) < 2 or len(s_rows) < 2:
                frechet[c] = None
                continue
            fr = model.pooled(features_for_rows(ws.manifest, r_rows, length, pad)).numpy()
            fs = model.pooled(features_for_rows(ws.synth_manifest, s_rows, length, pad)).numpy()
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
    md += [
        f"Model: `{model_dir}` (pooled AST feature; Fréchet distance as in FAD: lower = closer; "
        f"at most {cfg.max_per_class} train cycles per class and source).",
        "",
        "| class | Fréchet distance real vs synthetic |",
        "|---|--:|",
    ]
    md += [f"| {c} | {'–' if v is None else f'{v:.4f}'} |" for c, v in frechet.items()]
    md.append("")
    if disc is not None:
        md += [
            f"Discriminator real/synthetic accuracy on these cycles: {100 * disc:.1f}% "
            "(50% = it cannot tell them apart, which is what AFT pushes the encoder towards).",
            "",
        ]
    else:
        md += ["The model was not trained with AFT: no discriminator accuracy.", ""]
    return frechet, disc


def _real_only_model(ws: Workspace, cfg: ReportConfig) -> Path | None:
    """The classifier for label agreement: `--model` when given, else the newest run in the workspace
    trained without synthetic cycles (`finetune --no-synthetic`); None when there is none."""
    if cfg.model is not None:
        return cfg.model
    for _, d, _ in reversed(find_runs(ws.models)):
        info = run_info(d)
        if not info.get("training", {}).get("synthetic", True) or not sum(
            info.get("data", {}).get("counts", {}).get("train_synthetic", {}).values()
        ):
            return d if (d / "respgen.json").is_file() else next(d.glob("seed-*"), None)
    return None


def _fidelity(ws, cfg, classes, train, synthetic, out: Path, figures: list[str]) -> tuple[str, dict]:
    """The fidelity section (respgen.fidelity): per class the synthetic clips' log-mel L1 to their
    conditioning cycles, the noise and real-vs-real baselines, a real-only classifier's label agreement,
    and the vocoder's validation distance over its training steps."""
    md = ["## Synthetic-data fidelity", ""]
    result: dict[str, dict] = {}
    by_id = {r["id"]: r for r in train}
    model_dir = _real_only_model(ws, cfg)
    model = load_model_dir(model_dir) if model_dir is not None and synthetic else None
    syn_classes = [c for c in classes if any(r["label"] == c for r in synthetic)]
    for c in syn_classes:
        rows = sorted((r for r in synthetic if r["label"] == c), key=lambda r: r["id"])[: cfg.max_per_class]
        summary = class_summary(rows_fidelity(ws.synth_manifest, rows, ws.manifest, by_id), [c]).get(c)
        n = int(round(float(rows[0].get("duration", 4.0)) * 16000))
        agreement = None
        if model is not None and c in model[1].labels:
            m, info = model
            predicted = predict_labels(m, info.labels, info.features.length, info.features.pad, ws.synth_manifest, rows)
            agreement = label_agreement(predicted, c)
        result[c] = {
            "mel_l1": summary["mel_l1"] if summary else None,
            "mel_l1_noise": summary["mel_l1_noise"] if summary else None,
            "mel_l1_real": real_l1([r for r in train if r["label"] == c], ws.manifest, n),
            "label_agreement": agreement,
        }
    if not result:
        return "\n".join(md + ["No synthetic cycles in the workspace (run `respgen synth`).", ""]) + "\n", {}

    def f(x):
        return "–" if x is None else f"{x:.3f}"

    def share(x):
        return "–" if x is None else f"{100 * x:.0f}%"

    md += [
        "Log-mel L1 distance (the vocoder's mel, values in [0, 1]) of each synthetic cycle to the real cycle it "
        "was conditioned on, beside two baselines: Gaussian noise with the conditioning cycle's loudness, and two "
        "different real cycles of the class. Closer than noise is the least a vocoder must do; label agreement "
        "is the share of a class's synthetic cycles that a classifier trained on real cycles only labels as that "
        "class.",
        "",
        f"Label agreement model: `{model_dir}`."
        if model is not None
        else "Label agreement: no real-only model (run `respgen finetune --no-synthetic` or pass --model).",
        "",
        "| class | mel L1 | noise baseline | real-vs-real | label agreement |",
        "|---|--:|--:|--:|--:|",
    ]
    md += [
        f"| {c} | {f(v['mel_l1'])} | {f(v['mel_l1_noise'])} | {f(v['mel_l1_real'])} | {share(v['label_agreement'])} |"
        for c, v in result.items()
    ]
    md.append("")
    noisy = [c for c, v in result.items() if v["mel_l1"] is not None and v["mel_l1"] >= v["mel_l1_noise"]]
    if noisy:
        md += [
            f"**The synthetic {', '.join(noisy)} cycles are noise-like** (no closer to their conditioning than noise).",
            "",
        ]
    curve = _validation_curve(ws)
    if curve:
        plots.validation_curve(out / "vocoder-validation.png", *curve)
        figures.append("vocoder-validation.png")
        md += ["![vocoder validation distance](vocoder-validation.png)", ""]
    return "\n".join(md) + "\n", result


def _validation_curve(ws: Workspace) -> tuple[list[int], list[float], list[float]] | None:
    """(steps, validation mel L1, noise baseline) from `vocoder/metrics.jsonl`; None without evaluations."""
    if not ws.vocoder_metrics.is_file():
        return None
    rows = [json.loads(line) for line in ws.vocoder_metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("val_mel_l1") is not None]
    if not rows:
        return None
    return [r["step"] for r in rows], [r["val_mel_l1"] for r in rows], [r["val_mel_l1_noise"] for r in rows]
