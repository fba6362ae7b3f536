"""Does AFT align real and synthetic features? A testbed where the answer is known. (Research code:
bench/research/README.md; results in docs/research-notes.md.)

The demo workspace (demo-data + prepare) gets a "synthetic" manifest that is NOT vocoded: every real
train cycle of the minority classes passed through a fixed, clearly audible distortion (a spectral
tilt, +6 dB/octave pre-emphasis followed by a 4th-order Butterworth band-pass 300-3000 Hz, and white
noise at 10 dB SNR). Class content is kept and only the domain changes, so a method that aligns should
drive a fresh real/synthetic probe towards 50% without costing test Score. This separates "AFT does
not align" from "the vocoder makes noise".

Every arm of `respgen compare` runs with the same seeds (tiny preset, short inputs, few epochs) and
the script prints a markdown table: probe accuracy and test Sp / Se / Score / per-class accuracy,
mean ± std over seeds. Every arm keeps its last epoch (`--select-on last`, the default here): the
testbed's 16 val cycles make val selection noise, and an epoch picked before an adversary has done its
work says nothing about the adversary.

    python bench/research/bench_alignment.py [--seeds 1,2,3] [--epochs 40] [--length 2.0] [--select-on last]
        [--arms ce,ce-syn,aft-grl,aft-paired] [--workdir DIR] [--quickstart DIR] [--extra JSON]
        [--detach-real-target]

`--quickstart DIR`: run the same arms on an existing (quickstart) workspace with vocoded synthetic
cycles instead of building the testbed. `--extra`: more finetune settings for every arm, as JSON of
flat keys, e.g. '{"alpha": 0.3}' or '{"align_warmup": 0.1}'.

`--detach-real-target` (an ablation, not a respgen option): the paired loss sees the real sources'
features detached, so only the synthetic side can move towards the real one (in respgen both sides
get its gradient). It tells whether alignment comes from mapping the synthetic cycles onto the real
ones or from moving the real features.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchaudio.functional as AF

SNR_DB = 10.0
MINORITY = ("crackle", "wheeze", "both")


def butter_bandpass(low: float, high: float, fs: float, order: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of a digital Butterworth band-pass (2 x `order` poles), as `scipy.signal.butter(order,
    [low, high], btype="bandpass", fs=fs)` computes it (without scipy, not a respgen dependency): the
    analog prototype's poles, moved to the band (pre-warped edges), then the bilinear transform."""
    prototype = -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))  # poles, cutoff 1 rad/s
    w1, w2 = (2 * fs * np.tan(np.pi * f / fs) for f in (low, high))  # pre-warped band edges (rad/s)
    bw, wo = w2 - w1, np.sqrt(w1 * w2)
    half = prototype * bw / 2
    poles = np.concatenate([half + np.sqrt(half**2 - wo**2), half - np.sqrt(half**2 - wo**2)])
    gain = bw**order  # the band-pass has `order` zeros at s = 0 and `order` at infinity
    fs2 = 2 * fs
    z_poles = (fs2 + poles) / (fs2 - poles)
    z_zeros = np.concatenate([np.ones(order), -np.ones(order)])  # s = 0 -> z = 1; s = inf -> z = -1
    gain = gain * np.real(fs2**order / np.prod(fs2 - poles))
    return gain * np.real(np.poly(z_zeros)), np.real(np.poly(z_poles))


def distort(
    audio: np.ndarray, rng: np.random.Generator, sample_rate: int = 16000, snr_db: float = SNR_DB
) -> np.ndarray:
    """The fixed domain shift: tilt (pre-emphasis) + band-pass 300-3000 Hz + white noise at `snr_db`."""
    tilted = np.append(audio[0], audio[1:] - 0.95 * audio[:-1])
    b, a = butter_bandpass(300, 3000, sample_rate)
    y = AF.lfilter(torch.from_numpy(tilted).double(), torch.from_numpy(a), torch.from_numpy(b), clamp=False).numpy()
    y = y * (np.sqrt(np.mean(audio**2)) / (np.sqrt(np.mean(y**2)) + 1e-12))  # keep the level
    noise = rng.standard_normal(len(y)) * np.sqrt(np.mean(y**2) / 10 ** (snr_db / 10))
    return (y + noise).astype(np.float32)


def build_testbed(work: Path, seed: int = 0, snr_db: float = SNR_DB) -> None:
    """demo-data + prepare in `work`, then `synth/manifest.jsonl` of distorted minority train cycles."""
    from respgen.audio import load_audio, write_wav
    from respgen.config import DemoDataConfig, PrepareConfig
    from respgen.data.manifest import read_rows
    from respgen.services.demo_data import make_demo_data
    from respgen.services.prepare import prepare

    make_demo_data(DemoDataConfig(out_dir=work / "demo-icbhi", seed=seed))
    prepare(PrepareConfig(icbhi_dir=work / "demo-icbhi", workdir=work, seed=seed, workers=1))
    rng = np.random.default_rng(seed)
    rows = []
    for src in read_rows(work / "data" / "manifest.jsonl"):
        if src["split"] != "train" or src["label"] not in MINORITY:
            continue
        audio = load_audio(work / "data" / src["path"]).numpy()
        cid = f"{src['label']}_{len(rows):05d}"
        write_wav(work / "synth" / src["label"] / f"{cid}.wav", distort(audio, rng, snr_db=snr_db))
        rows.append(
            {
                "id": cid,
                "path": f"{src['label']}/{cid}.wav",
                "label": src["label"],
                "split": "train",
                "source": "synthetic",
                "conditioned_on": src["id"],
                "vocoder": {"distortion": f"tilt+bandpass+noise {snr_db:g} dB"},
            }
        )
    (work / "synth" / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def table(result, seconds: float) -> str:
    from respgen.services.compare import arm_summary

    def ms(pair):
        return "–" if pair is None or pair[0] is None else f"{100 * pair[0]:.1f} ± {100 * pair[1]:.1f}"

    lines = [
        "| arm | probe acc | test Sp | test Se | test Score | " + " | ".join(f"{c} acc" for c in result.classes) + " |",
        "|---|--:|--:|--:|--:|" + "--:|" * len(result.classes),
    ]
    for arm in result.arms:
        s = arm_summary(arm.record)
        lines.append(
            f"| {arm.arm} | {ms(s['probe_acc'])} | {ms(s['sp'])} | {ms(s['se'])} | {ms(s['score'])} | "
            + " | ".join(ms(s["per_class"][c]) for c in result.classes)
            + " |"
        )
    lines.append(f"\n{len(result.arms)} arms x seeds {result.seeds}: {seconds:.0f} s wall")
    return "\n".join(lines)


def detach_real_target() -> None:
    """The ablation: the paired loss with the real sources' features detached. respgen has no option for
    it, so this patches, in this process only, the loss class that `train_classifier` instantiates."""
    from respgen.classifier import training

    class DetachedRealTarget(training.PairedMahalanobis):
        def __call__(self, synthetic, real, batch=None):
            return super().__call__(synthetic, real.detach(), batch)

    training.PairedMahalanobis = DetachedRealTarget  # local to this bench process


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--length", type=float, default=2.0)
    ap.add_argument("--arms", default="ce,ce-syn,aft-grl,aft-paired")
    ap.add_argument("--select-on", default="last", choices=("val", "test", "last"))
    ap.add_argument("--workdir", type=Path, default=None, help="Build the testbed here (default: a temp dir)")
    ap.add_argument("--quickstart", type=Path, default=None, help="Use this workspace instead of the testbed")
    ap.add_argument("--snr", type=float, default=SNR_DB, help="SNR (dB) of the added noise")
    ap.add_argument("--extra", default="{}", help='JSON of extra finetune settings, flat keys (e.g. {"alpha": 0.3})')
    ap.add_argument("--detach-real-target", action="store_true", help="Ablation: only the synthetic side moves")
    args = ap.parse_args()
    if args.detach_real_target:
        detach_real_target()
    from respgen.config import CompareConfig
    from respgen.services.compare import compare

    with tempfile.TemporaryDirectory() as tmp:
        work = args.quickstart or args.workdir or Path(tmp) / "testbed"
        if args.quickstart is None and not (work / "synth" / "manifest.jsonl").is_file():
            build_testbed(work, snr_db=args.snr)
        t = time.perf_counter()
        cfg = CompareConfig(
            workdir=work,
            preset="tiny",
            epochs=args.epochs,
            length=args.length,
            seeds=args.seeds,
            arms=args.arms,
            select_on=args.select_on,
            name=f"bench-{time.strftime('%H%M%S')}",
            **json.loads(args.extra),
        )
        result = compare(cfg, quality=False)  # the arms only (the testbed's copies are not a vocoder's)
        print(table(result, time.perf_counter() - t))


if __name__ == "__main__":
    main()
