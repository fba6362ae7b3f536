"""An earlier form of the paired alignment loss, NOT the one in respgen, measured on the distortion
testbed: does pulling every synthetic cycle's pooled feature towards its real source's (squared
differences, optionally per dimension) make a fresh probe fail? (Issue 11; measured: not on every seed.
respgen's `--adversary paired` measures the difference in the features' covariance metric instead:
respgen/classifier/paired_alignment.py.
Research code: bench/research/README.md; results in docs/research-notes.md.)

Each synthetic cycle of the testbed (bench_alignment.py) is a distorted copy of one real train cycle
(`conditioned_on`), as a re-vocoded cycle is of the cycle whose mel it was made from. The tiny AST is
trained from scratch on CE(class) + alpha * w(t) * pair loss, where the pair loss compares the
layer-normed pooled features of each synthetic cycle in the batch and of its real source (the real
side detached): mean squared difference + beta * squared mean difference (the consistent offset a
linear probe finds); `--per-dim` divides the differences by the batch's per-dimension std (as the
probe standardises). w(t) is 0 for the first `--start` of training, then ramps linearly to 1 over
`--ramp` (from the start, the features collapse to a point). Constant learning rate (the tiny
preset's), no checkpoint selection: every `--every` epochs it prints the mean CE, the mean pair
loss, the fresh probe's accuracy (respgen.classifier.probe, as in every run's metrics.json) and the
test Score.

    python bench/research/bench_paired_alignment.py [--workdir /tmp/tb] [--seeds 1,2,3] [--epochs 60]
        [--alpha 1] [--beta 10] [--start 0.3] [--ramp 0.25] [--per-dim] [--every 10]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from bench_alignment import build_testbed


def pair_loss(synthetic: torch.Tensor, real: torch.Tensor, beta: float, scale: torch.Tensor | None) -> torch.Tensor:
    diff = F.layer_norm(synthetic, synthetic.shape[-1:]) - F.layer_norm(real.detach(), real.shape[-1:])
    if scale is not None:
        diff = diff / scale
    return (diff**2).mean() + beta * (diff.mean(0) ** 2).mean()


def run(work: Path, seed: int, args) -> list[tuple]:
    from respgen.classifier.data import n_frames
    from respgen.classifier.model import AFTClassifier
    from respgen.classifier.presets import PRESETS
    from respgen.classifier.probe import pooled_features, probe_accuracy
    from respgen.classifier.training import predict_probabilities, split_scores
    from respgen.config import FinetuneConfig
    from respgen.services.finetune import load_run_data
    from respgen.workspace import Workspace

    cfg = FinetuneConfig(workdir=work, preset="tiny", length=args.length, synthetic=True)
    data, _ = load_run_data(cfg, Workspace(work))
    partner = data.sources  # per train row: the row of its real source (-1: a real row, or no source)
    preset = PRESETS["tiny"]
    torch.manual_seed(seed)
    model = AFTClassifier(preset.ast_config(n_frames(args.length), data.classes), discriminator=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=preset.lr)
    x_all, y_all, d_all = data.train
    gen = torch.Generator().manual_seed(seed)
    bs, rows = preset.batch_size, []
    for epoch in range(args.epochs):
        weight = min(1.0, max(0.0, (epoch + 1 - args.start * args.epochs) / max(1.0, args.ramp * args.epochs)))
        perm = torch.randperm(len(y_all), generator=gen)
        ce_sum = pair_sum = 0.0
        batches = range(0, len(y_all) - bs + 1, bs)
        for i in batches:
            idx = perm[i : i + bs]
            p = partner[idx]
            has = p >= 0
            pooled = model.pooled(torch.cat([x_all[idx], x_all[p[has]]]))
            ce = F.cross_entropy(model.ast.classifier(pooled[:bs]), y_all[idx])
            scale = None
            if args.per_dim:
                scale = F.layer_norm(pooled, pooled.shape[-1:]).detach().std(0).clamp(min=1e-3)
            pl = pair_loss(pooled[:bs][has], pooled[bs:], args.beta, scale) if has.any() else torch.zeros(())
            (ce + args.alpha * weight * pl).backward()
            optimizer.step()
            optimizer.zero_grad()
            ce_sum, pair_sum = ce_sum + float(ce.detach()), pair_sum + float(pl.detach())
        if (epoch + 1) % args.every == 0:
            probe = probe_accuracy(pooled_features(model, x_all), d_all.numpy(), y_all.numpy())
            test_x, test_y = data.evals["test"]
            score = split_scores(predict_probabilities(model, test_x, 64), test_y, data.classes)["score"]
            rows.append((seed, epoch + 1, ce_sum / len(batches), pair_sum / len(batches), probe, score))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/tb"), help="The testbed (built here if missing)")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--length", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--beta", type=float, default=10.0)
    ap.add_argument("--start", type=float, default=0.3)
    ap.add_argument("--ramp", type=float, default=0.25)
    ap.add_argument("--per-dim", action="store_true")
    ap.add_argument("--every", type=int, default=10)
    args = ap.parse_args()
    if not (args.workdir / "synth" / "manifest.jsonl").is_file():
        build_testbed(args.workdir)
    print("| seed | epoch | CE | pair loss | probe acc | test Score |\n|--:|--:|--:|--:|--:|--:|")
    for seed in (int(s) for s in args.seeds.split(",")):
        for s, e, ce, pl, probe, score in run(args.workdir, seed, args):
            print(f"| {s} | {e} | {ce:.3f} | {pl:.3f} | {100 * probe:.1f} | {100 * score:.1f} |", flush=True)


if __name__ == "__main__":
    main()
