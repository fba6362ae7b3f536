"""How each command's result looks to a person: one render function per result type. Called only
without --quiet/--json (`--json` prints `result.to_dict()` instead)."""

from __future__ import annotations

import csv
import math
import sys
from typing import Any

import typer
from rich.table import Table

from respgen.cli.common import console, err_console
from respgen.noise_like import is_noise_like


def _plain(text: str) -> None:
    console.print(text, markup=False, highlight=False)


def counts_table(
    title: str, counts: dict[str, dict[str, int]], classes, extra: dict[str, dict[str, int]] | None = None
) -> None:
    """A split x class table of counts, with a total column and optional extra columns per split."""
    table = Table(title=title)
    table.add_column("split")
    for c in classes:
        table.add_column(c, justify="right")
    table.add_column("total", justify="right")
    for name in extra or {}:
        table.add_column(name, justify="right")
    for split, row in counts.items():
        cells = [str(row.get(c, 0)) for c in classes] + [str(sum(row.values()))]
        cells += [str(col.get(split, 0)) for col in (extra or {}).values()]
        table.add_row(split, *cells)
    console.print(table)


def prepare(result: Any) -> None:
    counts_table("cycles per split", result.counts, result.classes, extra={"recordings": result.recordings})
    console.print(result.val_note)
    for note in getattr(result, "notes", []):
        _plain(f"note: {note}")
    by_reason: dict[str, list[str]] = {}
    for s in result.skipped:
        by_reason.setdefault(s["reason"], []).append(s["item"])
    for reason, items in by_reason.items():
        _plain(
            f"skipped {len(items)}: {reason} (e.g. {items[0]})" if len(items) > 1 else f"skipped: {items[0]}: {reason}"
        )
    console.print(f"manifest: {result.manifest}")


def demo_data(result: Any) -> None:
    classes = getattr(result, "classes", None) or list(next(iter(result.counts.values()), {}))
    counts_table("demo cycles per split", result.counts, classes, extra={"recordings": result.recordings})
    console.print(f"written to {result.out_dir}")


def vocoder_train(result: Any) -> None:
    resumed = f" (resumed at step {result.start_step})" if result.start_step else ""
    loss = f", loss {result.loss:.4f}" if result.loss is not None else " (nothing to do: already at --max-steps)"
    console.print(f"trained to step {result.step}{resumed} on {result.clips} cycles{loss}")
    if getattr(result, "val_mel_l1", None) is not None:
        console.print(f"validation mel L1 {result.val_mel_l1:.3f} (noise baseline {result.val_mel_l1_noise:.3f})")
    console.print(f"checkpoint: {result.checkpoint}")


def synth(result: Any) -> None:
    for c, total in result.total.items():
        console.print(f"{c}: {result.written[c]} written, {total} in total")
    fidelity_lines(result.fidelity)
    console.print(f"manifest: {result.manifest}")


def fidelity_lines(fidelity: dict) -> None:
    """Per class: mean log-mel L1 to the conditioning cycles vs the loudness-matched noise baseline."""
    for c, f in fidelity.items():
        verdict = "noise-like" if is_noise_like(f) else f"{f['mel_l1'] / f['mel_l1_noise']:.2f}x noise"
        noise = f["mel_l1_noise"]
        console.print(f"{c}: mel L1 {f['mel_l1']:.3f} to conditioning (noise baseline {noise:.3f}; {verdict})")


def metrics(record: Any) -> None:
    """Sp / Se / Score per eval split of a run (`RunRecord`): one seed, or mean ± std over seeds."""
    several = len(record.seeds) > 1
    epochs = ", ".join(str(e) for e in record.best_epochs() if e is not None)
    table = Table(title=f"selected on {record.selected_on}" + (f", epoch {epochs}" if epochs else ""))
    for col in ("split", "Sp %", "Se %", "Score %", "accuracy %"):
        table.add_column(col, justify="right")
    for split in record.splits():
        table.add_row(
            split, *(_ms(record.metric(split, k), several, digits=2) for k in ("sp", "se", "score", "accuracy"))
        )
    console.print(table)


def finetune(result: Any) -> None:
    for note in result.notes:
        _plain(note)
    metrics(result.record)
    console.print(f"model: {result.run_dir}")


def classification(result: Any) -> None:
    for f in result.files:
        table = Table(title=f"{f.file} ({f.segmentation})")
        table.add_column("start", justify="right")
        table.add_column("end", justify="right")
        table.add_column("label")
        for c in result.labels:
            table.add_column(f"p({c})", justify="right")
        for s in f.segments:
            probs = (f"{s['probabilities'][c]:.3f}" for c in result.labels)
            table.add_row(f"{s['start']:.2f}", f"{s['end']:.2f}", s["label"], *probs)
        console.print(table)
        counts = ", ".join(f"{c} {n}" for c, n in f.summary["counts"].items())
        console.print(f"summary: {f.summary['segments']} segments: {counts}; abnormal {f.summary['abnormal_segments']}")


def classification_csv(result: Any) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["file", "start", "end", "label", *(f"p_{c}" for c in result.labels)])
    for f in result.files:
        for s in f.segments:
            probs = (f"{s['probabilities'][c]:.6f}" for c in result.labels)
            writer.writerow([f.file, s["start"], s["end"], s["label"], *probs])


def failed_files(result: Any) -> None:
    """One `error:` line per file that could not be classified; exit 2 when there was any."""
    for e in result.errors:
        err_console.print(f"error: {e['error']}", markup=False, highlight=False, soft_wrap=True)
    if result.errors:
        raise typer.Exit(2)


def stage(stage: Any) -> None:
    """One quickstart stage, as it finishes."""
    console.print(f"[bold]{stage.name}[/bold] ({stage.seconds:.0f} s): {stage.summary}")
    _plain(f"    -> {stage.outputs}")


def quickstart(result: Any) -> None:
    for name, quality in result.sets.items():
        synthetic_quality(name, quality)
    if result.comparison is not None:
        _plain(f"compared on synthetic set {result.compared_set}: {result.why}")
        compare(result.comparison)
    t = result.test
    console.print(
        f"AFT model on the demo test split: Sp {100 * t['sp']:.1f}%  Se {100 * t['se']:.1f}%  Score {100 * t['score']:.1f}%"
    )
    _plain(f"next: respgen report --workdir {result.workdir}")


def report(result: Any) -> None:
    for line in result.missing:
        _plain(f"missing: {line}")
    sounds = sum(1 for m in result.media if m.endswith(".wav"))
    console.print(f"report: {result.html} ({len(result.figures)} figures, {sounds} excerpts, {len(result.runs)} runs)")
    console.print(f"        {result.report} (the same, as Markdown)")
    if result.opened:
        console.print("opened in the default browser")


def vocoder_import(result) -> None:
    p = result.params
    arch = f"{p['residual_layers']} layers x {p['residual_channels']} channels, {p['n_mels']} mels at {p['sample_rate']} Hz"
    console.print(
        f"imported step {result.step} ({arch}; preset {result.preset or 'none'}; optimizer {result.optimizer})"
    )
    console.print(f"checkpoint: {result.checkpoint}")


def _ms(pair, std: bool = True, digits: int = 1) -> str:
    """A (mean, std) fraction as a percentage, "± std" when `std`."""
    if pair is None or pair[0] is None or math.isnan(pair[0]):
        return "-"
    mean, sd = pair
    return f"{100 * mean:.{digits}f} ± {100 * sd:.{digits}f}" if std else f"{100 * mean:.{digits}f}"


def compare(result: Any) -> None:
    """The arms side by side: test Sp / Se / Score, per-class accuracy and the probe's real/synthetic
    accuracy; then each synthetic set's fidelity, realism and diversity."""
    from respgen.services.compare import arm_summary

    several = len(result.seeds) > 1
    table = Table(
        title=f"{result.name}: test split, %" + (f" (mean ± std over seeds {result.seeds})" if several else "")
    )
    swept = any(a.amount is not None for a in result.arms)
    cols = ("arm", "set", *(("n/class",) if swept else ()), "Sp", "Se", "Score", *(f"{c} acc" for c in result.classes))
    for col in (*cols, "probe acc", "wall s", "CPU s"):
        table.add_column(col, justify="left" if col in ("arm", "set") else "right")
    for arm in result.arms:
        s = arm_summary(arm.record)
        cells = [_ms(s[k], several) for k in ("sp", "se", "score")]
        cells += [_ms(s["per_class"][c], several) for c in result.classes]
        amount = (str(arm.amount) if arm.amount is not None else "-",) if swept else ()
        costs = (f"{arm.seconds:.0f}", f"{arm.cpu_seconds:.0f}")
        table.add_row(arm.label, arm.synthetic_set or "-", *amount, *cells, _ms(s["probe_acc"], several), *costs)
    console.print(table)
    _plain(
        "probe acc: a fresh logistic-regression probe telling real from synthetic train features of the final "
        "model (50% = indistinguishable). wall / CPU s: the arm's fine-tuning, all seeds."
    )
    for key, found in result.differences.items():
        for d in found:
            _plain(f"{key}: {d.line()}")
    for key, amount in result.val_choice().items():
        _plain(f"{key}: val selects {amount} cycles per class (chosen on val, not test)")
    for name, quality in result.sets.items():
        synthetic_quality(name, quality)
    for arm in result.arms:
        _plain(f"{arm.arm}{'' if arm.synthetic_set is None else ' (' + arm.synthetic_set + ')'}: {arm.run_dir}")


def synthetic_quality(name: str, quality: Any) -> None:
    """One synthetic set (`SetQuality`) per class: fidelity (mel L1 vs noise, label agreement), realism
    (two-sample probe accuracy, 50% = indistinguishable from held-out real cycles) and diversity (near-copy
    or not): the report's table."""
    from respgen.diversity import diversity_sentence

    header, rows = quality.table()
    table = Table(title=f"synthetic set {name}")
    for col in header:
        table.add_column(col, justify="left" if col == "class" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for c, d in quality.diversity.items():
        _plain(diversity_sentence(c, d.model_dump()))


def evaluation(result: Any) -> None:
    """Sp / Se / Score / HS of a model on another workspace's split, whole and per subset."""
    table = Table(title=f"{result.model} on {result.workspace} ({result.split}, {result.n} cycles)")
    for col in ("part", "Sp %", "Se %", "Score %", "HS %", *(f"{c} acc %" for c in result.classes)):
        table.add_column(col, justify="left" if col == "part" else "right")
    for part, s in {"all": result.scores, **result.subsets}.items():
        cells = [_pct(s.get(k)) for k in ("sp", "se", "score", "hs")]
        table.add_row(part, *cells, *(_pct(s["per_class"].get(c)) for c in result.classes))
    console.print(table)
    if result.dropped:
        _plain(f"{result.dropped} cycles left out (their class is dropped by the label map)")
    console.print(f"written: {result.path}")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"
