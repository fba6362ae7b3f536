"""Rich tables for results."""

from __future__ import annotations

from rich.table import Table

from respgen.cli.common import console


def render_counts(title: str, counts: dict[str, dict[str, int]], classes, extra: dict[str, dict[str, int]] | None = None) -> None:
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


def _pct(x) -> str:
    return "-" if x is None or x != x else f"{100 * x:.2f}"


def render_metrics(metrics: dict) -> None:
    """Sp / Se / Score per eval split (one seed), or mean ± std over seeds."""
    table = Table(title=f"selected on {metrics['selected_on']}" + (f", epoch {metrics['best_epoch']}" if "best_epoch" in metrics else ""))
    for col in ("split", "Sp %", "Se %", "Score %", "accuracy %"):
        table.add_column(col, justify="right")
    if "mean" in metrics:
        for split, mean in metrics["mean"].items():
            std = metrics["std"][split]
            table.add_row(split, *(f"{100 * mean[k]:.2f} ± {100 * std[k]:.2f}" for k in ("sp", "se", "score", "accuracy")))
    else:
        for split in ("val", "test"):
            if split in metrics:
                m = metrics[split]
                table.add_row(split, *(_pct(m[k]) for k in ("sp", "se", "score", "accuracy")))
    console.print(table)


def render_classification(result) -> None:
    for f in result.files:
        table = Table(title=f"{f.file} ({f.segmentation})")
        table.add_column("start", justify="right")
        table.add_column("end", justify="right")
        table.add_column("label")
        for c in result.labels:
            table.add_column(f"p({c})", justify="right")
        for s in f.segments:
            table.add_row(f"{s['start']:.2f}", f"{s['end']:.2f}", s["label"], *(f"{s['probabilities'][c]:.3f}" for c in result.labels))
        console.print(table)
        counts = ", ".join(f"{c} {n}" for c, n in f.summary["counts"].items())
        console.print(f"summary: {f.summary['segments']} segments: {counts}; abnormal {f.summary['abnormal_segments']}")


def print_csv(result) -> None:
    import csv
    import sys

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["file", "start", "end", "label", *(f"p_{c}" for c in result.labels)])
    for f in result.files:
        for s in f.segments:
            writer.writerow([f.file, s["start"], s["end"], s["label"], *(f"{s['probabilities'][c]:.6f}" for c in result.labels)])
