"""The report's figures (matplotlib, written as PNG). Fixed margins rather than `tight_layout`, which
measures every text and costs about a third of a figure's drawing."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def class_counts(path: Path, classes: list[str], real: dict[str, int], synthetic: dict[str, int]) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(classes))
    ax.bar(x - 0.2, [real[c] for c in classes], 0.4, label="real train")
    ax.bar(x + 0.2, [synthetic.get(c, 0) for c in classes], 0.4, label="synthetic added")
    ax.set_xticks(x, classes)
    ax.set_ylabel("cycles")
    ax.set_title("Cycles per class")
    ax.legend()
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.1, top=0.9)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def mel_image(path: Path, mel: np.ndarray, scale: int = 1) -> None:
    """A vocoder mel ([n_mels, frames], values in [0, 1]) as a bare PNG, low bins at the bottom, each
    value a `scale` x `scale` block (no axes: the page says what it shows; milliseconds, not a figure)."""
    big = np.repeat(np.repeat(np.asarray(mel)[::-1], scale, axis=0), scale, axis=1)
    plt.imsave(path, big, vmin=0, vmax=1, cmap="magma")


def run_figure(
    path: Path, name: str, classes: list[str], confusion: list[list[int]], history: list[dict], split: str
) -> None:
    """Confusion matrix (of the selected checkpoint on `split`) and training curves."""
    fig, (ax_cm, ax_curve) = plt.subplots(1, 2, figsize=(11, 4))
    cm = np.asarray(confusion)
    ax_cm.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax_cm.text(j, i, str(v), ha="center", va="center", color="black" if v < cm.max() / 2 else "white")
    ax_cm.set_xticks(range(len(classes)), classes)
    ax_cm.set_yticks(range(len(classes)), classes)
    ax_cm.set_xlabel("predicted")
    ax_cm.set_ylabel("true")
    ax_cm.set_title(f"{name}: confusion on {split}")
    epochs = [h["epoch"] for h in history]
    ax_curve.plot(epochs, [h["loss"] for h in history], label="train loss", color="gray")
    ax_curve.set_xlabel("epoch")
    ax_curve.set_ylabel("loss")
    ax2 = ax_curve.twinx()
    for s in ("val", "test"):
        if history and s in history[0]:
            ax2.plot(epochs, [100 * h[s]["score"] for h in history], label=f"{s} Score %")
    if history and "disc_acc" in history[0]:
        ax2.plot(epochs, [100 * h["disc_acc"] for h in history], label="discriminator acc %", linestyle="--")
    ax2.set_ylabel("%")
    lines = ax_curve.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax2.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="best", fontsize=8)
    ax_curve.set_title("training curves")
    fig.subplots_adjust(left=0.09, right=0.94, bottom=0.13, top=0.91, wspace=0.3)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def amount_sweep(path: Path, sweeps: list) -> None:
    """Test Score and minority-class accuracy against the synthetic cycles per class, one line per sweep
    with its spread over seeds, the amount val selects starred."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8 + 0.25 * len(sweeps)))
    for s in sweeps:
        x = [p.amount for p in s.points]
        for ax, key in zip(axes, ("score", "minority")):
            y = [np.nan if getattr(p, key)[0] is None else 100 * getattr(p, key)[0] for p in s.points]
            err = [100 * getattr(p, key)[1] for p in s.points]
            line = ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=f"{s.label}: {s.runs}")
            if s.chosen is not None:
                k = x.index(s.chosen)
                ax.plot([x[k]], [y[k]], marker="*", markersize=14, color=line[0].get_color())
    amounts = sorted({p.amount for s in sweeps for p in s.points})
    for ax, title in zip(axes, ("test Score %", "minority-class accuracy %")):
        ax.set_xscale("log")
        ax.set_xticks(amounts, [str(a) for a in amounts])
        ax.minorticks_off()
        ax.set_xlabel("synthetic cycles per class")
        ax.set_title(title)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    bottom = 0.14 + 0.2 * (len(sweeps) + 1) // 2 / (3.8 + 0.25 * len(sweeps))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=min(0.6, bottom + 0.1), top=0.92, wspace=0.25)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def validation_curve(path: Path, steps: list[int], distance: list[float], noise: list[float]) -> None:
    """The vocoder's validation log-mel L1 over its training steps, with the noise baseline."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, distance, marker="o", label="re-vocoded held-out cycles")
    ax.plot(steps, noise, linestyle="--", color="gray", label="noise baseline")
    ax.set_xlabel("vocoder step")
    ax.set_ylabel("log-mel L1 (lower = closer)")
    ax.set_title("Vocoder validation distance")
    ax.legend()
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.14, top=0.9)
    fig.savefig(path, dpi=100)
    plt.close(fig)
