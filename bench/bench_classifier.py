"""Classifier overheads on CPU.

1. `classify` of a 20 s recording with the base preset (AST-base, 5 s windows) against the bare
   model forward on the same segments (features precomputed). Model loading is timed separately.
2. One training step of the tiny preset through respgen's `train_step` (accelerate, the paper's AFT
   step: class head + real/synthetic discriminator behind gradient reversal, scheduler) against a bare
   transformers `ASTForAudioClassification` loop on the same batch.

    python bench/bench_classifier.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from rich.console import Console
from rich.table import Table


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from accelerate import Accelerator
    from transformers import ASTForAudioClassification

    from respgen.atomic import write_json
    from respgen.classifier.alignment import Alignment
    from respgen.classifier.data import clip_features, n_frames
    from respgen.classifier.model import AFTClassifier
    from respgen.classifier.presets import PRESETS
    from respgen.classifier.store import load_model_dir as load_model
    from respgen.classifier.training import TrainSettings, train_step
    from respgen.config import ClassifyConfig
    from respgen.labels import CLASSES
    from respgen.services.classify import classify_files

    console = Console()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames = n_frames(5.0)
        torch.manual_seed(0)
        AFTClassifier(PRESETS["base"].ast_config(frames, CLASSES), discriminator=False).save(tmp / "m")
        write_json(tmp / "m" / "respgen.json", {"labels": list(CLASSES), "features": {"length": 5.0, "pad": "repeat"}})
        wav = tmp / "rec.wav"
        sf.write(str(wav), np.random.default_rng(0).standard_normal(20 * 44100).astype(np.float32) * 0.1, 44100)

        t_load = median_time(lambda: load_model(tmp / "m"), max(1, args.repeats // 2))
        model, info = load_model(tmp / "m")
        cfg = ClassifyConfig(files=[wav], model=tmp / "m")
        t_classify = median_time(lambda: classify_files(model, info, cfg), args.repeats)
        audio = torch.randn(20 * 16000)
        feats = torch.stack([clip_features(audio[i * 80000 : (i + 1) * 80000], 5.0, "repeat") for i in range(4)])
        bare = ASTForAudioClassification.from_pretrained(tmp / "m").eval()

        def bare_forward():
            with torch.inference_mode():
                bare(feats)

        t_bare = median_time(bare_forward, args.repeats)
        rows.append(("classify 20 s, base preset (4 windows)", t_classify, t_bare))

    # training step, tiny preset, batch 16 x 5 s
    torch.manual_seed(0)
    config = PRESETS["tiny"].ast_config(n_frames(5.0), CLASSES)
    x, y, d = torch.randn(16, n_frames(5.0), 128), torch.randint(0, 4, (16,)), torch.randint(0, 2, (16,))
    accelerator = Accelerator(cpu=True)
    ours = AFTClassifier(config, discriminator=True)
    opt = torch.optim.Adam(ours.parameters(), lr=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
    ours, opt, sched = accelerator.prepare(ours, opt, sched)
    settings = TrainSettings(
        epochs=1,
        batch_size=16,
        lr=5e-4,
        weight_decay=0.0,
        ma_beta=0.0,
        specaug=0.0,
        class_weights=False,
        alignment=Alignment("grl", 0.2),
    )
    t_ours = median_time(lambda: train_step(ours, opt, sched, accelerator, x, y, d, settings, 0.5), args.repeats * 4)
    ref = ASTForAudioClassification(config)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=5e-4)

    def bare_step():
        loss = ref(x, labels=y).loss
        loss.backward()
        ref_opt.step()
        ref_opt.zero_grad(set_to_none=True)

    t_ref = median_time(bare_step, args.repeats * 4)
    rows.append(("train step, tiny preset, batch 16 x 5 s (AFT)", t_ours, t_ref))

    table = Table(title=f"classifier on CPU ({torch.get_num_threads()} threads), median times")
    for col in ("what", "respgen (s)", "bare transformers (s)", "ratio"):
        table.add_column(col, justify="right")
    for name, a, b in rows:
        table.add_row(name, f"{a:.3f}", f"{b:.3f}", f"{a / b:.2f}")
    console.print(table)
    console.print(f"model load (base preset, safetensors): {t_load:.3f} s, once per `classify` call")


if __name__ == "__main__":
    main()
