"""Learning parity with the reference DiffWave (the PyPI `diffwave` package, lmnt-com). Research code
(bench/research/README.md; results in docs/research-notes.md): learning numbers, not timings.

Trains ours (respgen's model, noise schedule and training-step formula, as in respgen/vocoder/training.py)
and the reference (its model class stepped by its own `DiffWaveLearner.train_step`) with the same small
config, the same initial weights (same seed, same module order), the same batches (respgen's
`CycleCrops` on the prepared demo data), the same learning rate and Adam, the same diffusion steps and
noise per step. Then both re-vocode the same held-out (test-split) cycles with DiffWave's 6-step fast
schedule - ours with `respgen.vocoder.diffusion.sample`, theirs with `diffwave.inference.predict` - from
the same noise, and the validation distance is the log-mel L1 between each generated clip's mel and its
conditioning mel (`respgen.fidelity.mel_l1_to_mel`, the distance every respgen command reports, here
in dB: 100 x the mean absolute difference of the [0, 1]-scaled log-mels). Only learning numbers are reported; timings on a shared CPU mean nothing.

    pip install --no-deps diffwave   # (its learner imports tensorboard: stubbed here, it only logs)
    python bench/research/bench_vocoder_learning.py [--steps 400] [--batch-size 4] [--crop-frames 16] [--seed 0] [--every 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import types
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from respgen.config import DemoDataConfig, PrepareConfig
from respgen.data.manifest import load_clip
from respgen.features import vocoder_mel
from respgen.fidelity import mel_l1_to_mel
from respgen.services.demo_data import make_demo_data
from respgen.services.prepare import prepare
from respgen.vocoder.data import CycleCrops
from respgen.vocoder.diffusion import noise_levels, sample
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import VocoderParams
from respgen.workspace import Workspace

SMALL = {"residual_layers": 6, "residual_channels": 32, "dilation_cycle": 3}


def reference_modules():
    if "torch.utils.tensorboard" not in sys.modules:  # DiffWaveLearner imports SummaryWriter; unused here
        try:
            import torch.utils.tensorboard  # noqa: F401
        except ImportError:
            sys.modules["torch.utils.tensorboard"] = types.SimpleNamespace(SummaryWriter=None)
    warnings.filterwarnings("ignore", category=FutureWarning, module="diffwave")  # its torch.cuda.amp calls
    from diffwave import inference, learner, model, params

    return inference, learner, model, params


def log_mel_l1_db(audio: torch.Tensor, mel: torch.Tensor, params: VocoderParams) -> float:
    """`respgen.fidelity.mel_l1_to_mel` in dB (the mels are (dB + 100) / 100, so x 100)."""
    return 100.0 * mel_l1_to_mel(audio, mel, **params.mel_kwargs())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--crop-frames", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--every", type=int, default=50, help="print the mean loss of every N steps")
    ap.add_argument("--val-clips", type=int, default=8)
    ap.add_argument("--val-frames", type=int, default=62)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--precision",
        choices=("no", "bf16"),
        default="no",
        help="respgen's training step and sampling (bf16: autocast)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    inference, learner, ref_model, ref_params = reference_modules()

    params = VocoderParams(**SMALL, crop_frames=args.crop_frames)
    ref = ref_params.AttrDict(ref_params.params)
    ref.override(
        {
            "residual_layers": params.residual_layers,
            "residual_channels": params.residual_channels,
            "dilation_cycle_length": params.dilation_cycle,
            "n_mels": params.n_mels,
            "hop_samples": params.hop,
            "sample_rate": params.sample_rate,
            "learning_rate": args.lr,
            "batch_size": args.batch_size,
            "crop_mel_frames": params.crop_frames,
            "noise_schedule": np.linspace(params.beta_start, params.beta_end, params.diffusion_steps).tolist(),
            "inference_noise_schedule": list(params.inference_schedule),
        }
    )

    with tempfile.TemporaryDirectory() as tmp:
        demo, work = Path(tmp) / "demo", Path(tmp) / "work"
        make_demo_data(DemoDataConfig(out_dir=demo, seed=args.seed))
        prepare(PrepareConfig(icbhi_dir=demo, workdir=work, seed=args.seed, workers=1))
        ws = Workspace(work)
        data = CycleCrops(ws.manifest, ws.real_rows(("train",)), params)
        held_out = sorted(ws.real_rows(("test",)), key=lambda r: r["id"])[: args.val_clips]
        n = args.val_frames * params.hop
        val_mels = []
        for row in held_out:
            audio = load_clip(ws.manifest, row, params.sample_rate)
            audio = F.pad(audio, (0, max(0, n - audio.shape[0])))[:n]
            val_mels.append(vocoder_mel(audio, **params.mel_kwargs())[:, : args.val_frames])

        torch.manual_seed(args.seed)
        ours = DiffWave(params)
        torch.manual_seed(args.seed)
        theirs = ref_model.DiffWave(ref)
        same_init = all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))
        opt_ours = torch.optim.Adam(ours.parameters(), lr=args.lr)
        learn = learner.DiffWaveLearner(tmp, theirs, None, torch.optim.Adam(theirs.parameters(), lr=args.lr), ref)
        levels = noise_levels(params)

        print(
            f"{len(data)} train cycles, {len(held_out)} held-out test cycles; config {SMALL}, crop {params.crop_frames} "
            f"frames, batch {args.batch_size}, lr {args.lr}, {args.steps} steps, seed {args.seed}; "
            f"identical initial weights: {same_init}"
        )
        curves: list[tuple[int, float, float]] = []
        window_ours, window_theirs = [], []
        ours.train()
        theirs.train()
        for step in range(args.steps):
            audio, mel = data.batch(step, args.batch_size, 0, 1, args.seed)
            # the reference's train_step draws t and noise from the global RNG: ours draws the same ones
            torch.manual_seed(args.seed * 1_000_003 + step)
            loss_theirs = float(learn.train_step({"audio": audio, "spectrogram": mel}).detach())
            torch.manual_seed(args.seed * 1_000_003 + step)
            t = torch.randint(0, params.diffusion_steps, [audio.shape[0]])
            noise = torch.randn_like(audio)
            scale = levels[t].unsqueeze(1)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
                predicted = ours(scale.sqrt() * audio + (1 - scale).sqrt() * noise, t, mel)  # vocoder/training.py
            loss = F.l1_loss(predicted.float(), noise)
            loss.backward()
            opt_ours.step()
            opt_ours.zero_grad(set_to_none=True)
            window_ours.append(float(loss.detach()))
            window_theirs.append(loss_theirs)
            if (step + 1) % args.every == 0 or step + 1 == args.steps:
                curves.append((step + 1, float(np.mean(window_ours)), float(np.mean(window_theirs))))
                window_ours, window_theirs = [], []
                print(f"  step {step + 1:5d}  loss ours {curves[-1][1]:.4f}  reference {curves[-1][2]:.4f}", flush=True)

        ours.eval()
        theirs.eval()
        inference.models["bench"] = theirs  # predict() takes a cached model by key
        dist_ours, dist_theirs = [], []
        for k, mel in enumerate(val_mels):
            seed = args.seed * 7919 + k  # the same noise for both samplers (one clip at a time)
            dtype = torch.bfloat16 if args.precision == "bf16" else None
            audio = sample(ours, mel.unsqueeze(0), "fast", [torch.Generator().manual_seed(seed)], dtype)
            dist_ours.append(log_mel_l1_db(audio[0], mel, params))
            torch.manual_seed(seed)
            audio, _ = inference.predict(
                mel.unsqueeze(0), model_dir="bench", device=torch.device("cpu"), fast_sampling=True
            )
            dist_theirs.append(log_mel_l1_db(audio[0], mel, params))
        d_ours, d_theirs = float(np.mean(dist_ours)), float(np.mean(dist_theirs))
        max_weight_diff = max(
            float((a - b).abs().max()) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values())
        )

    print()
    print("| step | train loss, respgen | train loss, diffwave (PyPI) |")
    print("|---:|---:|---:|")
    for step, a, b in curves:
        print(f"| {step} | {a:.4f} | {b:.4f} |")
    print()
    print("| | respgen | diffwave (PyPI) | respgen / diffwave |")
    print("|---|---:|---:|---:|")
    print(
        f"| final train loss (mean of last {args.every} steps) | {curves[-1][1]:.4f} | {curves[-1][2]:.4f} | {curves[-1][1] / curves[-1][2]:.3f} |"
    )
    print(
        f"| validation log-mel L1, dB ({len(val_mels)} held-out cycles, 6-step fast sampling) | {d_ours:.3f} | {d_theirs:.3f} | {d_ours / d_theirs:.3f} |"
    )
    print()
    print(f"largest weight difference after training: {max_weight_diff:.2e}")
    verdict = "within 5% (or better)" if d_ours <= 1.05 * d_theirs else "NOT within 5%"
    print(f"ours vs reference validation distance: {100 * (d_ours / d_theirs - 1):+.2f}% -> {verdict}")


if __name__ == "__main__":
    main()
