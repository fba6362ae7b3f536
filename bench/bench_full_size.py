"""A full-size dry run of the paper's protocol on CPU: wall time and peak memory per stage.

The full ICBHI layout (all 920 annotation files, placeholder audio of the right lengths: see
tests/placeholder.py) -> prepare -> synth Mixed-N of all four classes with the training-free vocoder ->
finetune --aft with examples/paper.toml's settings (tiny preset, one epoch, fp32, no pretrained init) ->
the same finetune again (its features come from the feature store) -> report. Each stage runs as its own
`respgen` process; its peak RSS comes from the kernel's accounting of that process (wait4).

    python bench/bench_full_size.py [--n 500] [--annotations ../shared/data/icbhi-annotations] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from respgen.config import tomllib  # (tomli before Python 3.11)

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "examples" / "paper.toml"


def run_stage(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in GiB) of one `respgen` process."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "respgen", *args, "--quiet"], stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"stage failed: respgen {' '.join(args)}: {proc.stderr.read().strip()}")
    return wall, usage.ru_maxrss / 2**20  # KiB -> GiB


def finetune_toml(out: Path, per_class: int) -> Path:
    """paper.toml's [finetune] with what a CPU dry run cannot use removed (hub download, fp16, 5 seeds),
    reading `per_class` synthetic cycles of each class (Mixed-N)."""
    paper = tomllib.loads(PAPER.read_text())["finetune"]
    for key in ("init", "precision", "seeds", "preset", "epochs"):
        paper.pop(key, None)
    paper["synthetic_per_class"] = per_class
    lines = ["[finetune]"] + [f"{k} = {_toml(v)}" for k, v in paper.items()]
    out.write_text("\n".join(lines) + "\n")
    return out


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annotations", type=Path, default=ROOT.parent / "shared" / "data" / "icbhi-annotations")
    ap.add_argument("--n", type=int, default=500, help="synthetic cycles per class (Mixed-N)")
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from placeholder import build_placeholder_icbhi

    base = a.keep or Path(tempfile.mkdtemp(prefix="respgen-full-"))
    icbhi, work = base / "icbhi", base / "work"
    rows = []
    t = time.perf_counter()
    n = build_placeholder_icbhi(a.annotations, icbhi)
    rows.append(("placeholder layout", f"{n} recordings", time.perf_counter() - t, None))
    w = ["--workdir", str(work)]
    cfg = finetune_toml(base / "dry-run.toml", a.n)
    stages = [
        ("prepare", ["prepare", str(icbhi), *w, "--config", str(PAPER)], "paper.toml (no val split)"),
        (
            f"synth griffinlim Mixed-{a.n}",
            ["synth", "--class", "all", "--n", str(a.n), "--vocoder", "griffinlim", "--length", "4", *w],
            f"{4 * a.n} clips",
        ),
        (
            "finetune --aft (features computed)",
            ["finetune", "--aft", "--preset", "tiny", "--epochs", "1", "--config", str(cfg), "--name", "dry1", *w],
            "tiny, 1 epoch",
        ),
        (
            "finetune --aft (features cached)",
            ["finetune", "--aft", "--preset", "tiny", "--epochs", "1", "--config", str(cfg), "--name", "dry2", *w],
            "tiny, 1 epoch",
        ),
        ("report", ["report", *w], ""),
    ]
    for name, args, what in stages:
        wall, rss = run_stage(args)
        rows.append((name, what, wall, rss))
    table = Table(title=f"full-size dry run (synthetic Mixed-{a.n})")
    for col in ("stage", "what", "wall s", "peak RSS GiB"):
        table.add_column(col, justify="left" if col in ("stage", "what") else "right")
    for name, what, wall, rss in rows:
        table.add_row(name, what, f"{wall:.1f}", "-" if rss is None else f"{rss:.2f}")
    Console().print(table)
    cache = sum(f.stat().st_size for f in (work / "cache" / "features").rglob("*.npy")) / 2**30
    Console().print(f"feature cache: {cache:.2f} GiB on disk; workdir {base}")
    if a.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
