"""The search behind the `demo` vocoder preset (issue 10 item 6; research code: bench/research/README.md;
results in docs/research-notes.md).

On the demo data: one real-only tiny AST (`finetune --preset tiny --no-synthetic`), then for each
candidate vocoder configuration a fresh vocoder trained in its own workdir, `synth` of 32 cycles per
minority class, and `fidelity_check.py` (next to this script) over the synthetic set.

    python bench/research/demo_preset_search.py OUT [--cpu] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fidelity_check import check  # noqa: E402

from respgen.config import DemoDataConfig, FinetuneConfig, PrepareConfig, SynthConfig, VocoderTrainConfig  # noqa: E402
from respgen.services.demo_data import make_demo_data  # noqa: E402
from respgen.services.finetune import finetune  # noqa: E402
from respgen.services.prepare import prepare  # noqa: E402
from respgen.services.synth import synthesize  # noqa: E402
from respgen.services.vocoder_train import train_vocoder  # noqa: E402
from respgen.vocoder.params import PRESETS, VocoderParams  # noqa: E402

# name: (layers, channels, dilation cycle, crop frames, batch, lr, steps)
CANDIDATES = {
    "l8c32-b8-1k": (8, 32, 4, 32, 8, 2e-3, 1000),
    "l10c32-b8-2k": (10, 32, 5, 32, 8, 2e-3, 2000),
    "l12c48-b16-3k": (12, 48, 6, 48, 16, 1e-3, 3000),
    "l10c32-b16-3k": (10, 32, 5, 32, 16, 2e-3, 3000),
    "l10c32-b16-6k": (10, 32, 5, 32, 16, 2e-3, 6000),
    "l12c48-b16-6k": (12, 48, 6, 48, 16, 1e-3, 6000),
    "l16c64-b16-10k": (16, 64, 8, 62, 16, 1e-3, 10000),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--cpu", action="store_true")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--n", type=int, default=32)
    a = ap.parse_args()
    base = a.out / "base"
    if not (base / "data" / "manifest.jsonl").is_file():
        make_demo_data(DemoDataConfig(out_dir=a.out / "demo-icbhi"))
        prepare(PrepareConfig(icbhi_dir=a.out / "demo-icbhi", workdir=base, workers=4))
    real_only = base / "models" / "real-only"
    if not real_only.is_dir():
        t = time.perf_counter()
        r = finetune(FinetuneConfig(workdir=base, preset="tiny", synthetic=False, name="real-only", cpu=a.cpu))
        print(
            "real-only",
            {k: r.metrics["test"][k] for k in ("sp", "se", "score")},
            f"{time.perf_counter() - t:.0f}s",
            flush=True,
        )
    results = {}
    for name, (layers, channels, cycle, crop, batch, lr, steps) in CANDIDATES.items():
        if a.only and name not in a.only:
            continue
        # `vocoder train` takes a preset name, not its sizes: each candidate replaces the `demo` preset's
        # entry (in this process only) and trains with --preset demo
        PRESETS["demo"] = VocoderParams(
            residual_layers=layers, residual_channels=channels, dilation_cycle=cycle, crop_frames=crop
        )
        work = a.out / name
        work.mkdir(parents=True, exist_ok=True)
        if not (work / "data").exists():
            (work / "data").symlink_to((base / "data").resolve(), target_is_directory=True)
        t = time.perf_counter()
        v = train_vocoder(
            VocoderTrainConfig(
                workdir=work,
                preset="demo",
                max_steps=steps,
                batch_size=batch,
                lr=lr,
                save_every=steps,
                log_every=100,
                eval_every=500,
                cpu=a.cpu,
                fresh=True,
            )
        )
        train_s = time.perf_counter() - t
        synthesize(SynthConfig(workdir=work, classes=["crackle", "wheeze", "both"], n=a.n, cpu=a.cpu))
        results[name] = {
            "train_s": train_s,
            "val_mel_l1": v.val_mel_l1,
            "val_mel_l1_noise": v.val_mel_l1_noise,
            **check(work, real_only),
        }
        print(name, json.dumps(results[name]), flush=True)
        (a.out / "search.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
