"""Griffin-Lim vocoder throughput and fidelity: N synthetic clips of L seconds from real(-like) cycles.

    python bench/bench_griffinlim.py [--n 1000] [--length 4] [--iters 32] [--momentum 0.99]
                                     [--batch-size 16] [--cpu] [--workdir W] [--threads T]

Without `--workdir`, the demo dataset (`respgen.services.demo_data`) is made and prepared in a temporary folder
(16 kHz cycles with crackle / wheeze-like events); with it, the real train cycles of that prepared
workdir are used (its `synth/` is not touched: the service writes into a temporary copy).

Table (markdown), one row each:
- `vocode <inverse>`: `griffinlim_vocode` alone on the conditioning mels (both mel inversions: the
  filterbank's pseudo-inverse and torchaudio's least-squares InverseMelScale), batches of --batch-size;
- `synth`: the whole `respgen synth --vocoder griffinlim` service (reading cycles, vocoding, writing wavs
  and the manifest, the fidelity and seed-spread numbers).
Columns: clips, audio seconds, wall seconds, clips per second, mean mel L1 to the conditioning mel
(`respgen.fidelity.mel_l1_to_mel`) and, for scale, the loudness-matched noise baseline's mean.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import torch

from respgen.config import DemoDataConfig, PrepareConfig, SynthConfig
from respgen.data.manifest import load_clip
from respgen.features import fit_length, vocoder_mel
from respgen.fidelity import mel_l1_to_mel, noise_l1, noise_seed
from respgen.services.demo_data import make_demo_data
from respgen.services.prepare import prepare
from respgen.services.synth import clip_seed, conditioning_order, synthesize
from respgen.vocoder.griffinlim import griffinlim_vocode
from respgen.vocoder.params import VocoderParams
from respgen.workspace import Workspace


def prepared_demo(root: Path) -> Path:
    make_demo_data(DemoDataConfig(out_dir=root / "icbhi", patients=8, recordings_per_patient=2, sample_rate=16000))
    prepare(PrepareConfig(icbhi_dir=root / "icbhi", workdir=root / "work", val_fraction=0, workers=1))
    return root / "work"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="clips in all (split evenly over the classes)")
    ap.add_argument("--length", type=float, default=4.0, help="seconds per clip")
    ap.add_argument("--iters", type=int, default=32)
    ap.add_argument("--momentum", type=float, default=0.99)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--cpu", action="store_true", help="CPU even with a GPU")
    ap.add_argument("--workdir", type=Path, help="a prepared respgen workdir (default: demo data)")
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    p = VocoderParams()
    frames = -(-int(round(args.length * p.sample_rate)) // p.hop)
    n_samples = int(round(args.length * p.sample_rate))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = args.workdir or prepared_demo(tmp / "demo")
        ws = Workspace(source)
        real = ws.real_rows(("train",))
        classes = sorted({r["label"] for r in real})
        per_class = math.ceil(args.n / len(classes))
        # the conditioning the service will use (the same order, seeds, length)
        picks = []
        for c in classes:
            ids = {r["id"]: r for r in real if r["label"] == c}
            picks += [(c, k, ids[conditioning_order(list(ids), k, 0, c)]) for k in range(per_class)]
        picks = picks[: args.n]
        audio = {r["id"]: load_clip(ws.manifest, r, p.sample_rate) for _, _, r in picks}
        mels = torch.stack(
            [vocoder_mel(fit_length(audio[r["id"]], frames * p.hop), **p.mel_kwargs())[:, :frames] for _, _, r in picks]
        )
        noise = sum(noise_l1(audio[r["id"]], n_samples, noise_seed(f"{c}_{k:05d}")) for c, k, r in picks) / len(picks)
        table = []
        for inverse in ("pinv", "inverse_mel"):
            out, wall = [], 0.0
            for b in range(0, len(picks), args.batch_size):
                chunk = picks[b : b + args.batch_size]
                gens = [torch.Generator().manual_seed(clip_seed(0, c, k)) for c, k, _ in chunk]
                m = mels[b : b + args.batch_size].to(device)
                sync(device)
                t = time.perf_counter()
                wave = griffinlim_vocode(m, p, args.iters, args.momentum, gens, inverse)
                sync(device)
                wall += time.perf_counter() - t
                out += list(wave.cpu())
            l1 = sum(mel_l1_to_mel(w, m, **p.mel_kwargs()) for w, m in zip(out, mels)) / len(out)
            table.append((f"vocode {inverse}", len(out), wall, l1))

        # the whole service, in a throwaway workdir sharing the prepared data
        work = tmp / "synth-work"
        work.mkdir()
        (work / "data").symlink_to(Path(source).resolve() / "data", target_is_directory=True)
        cfg = SynthConfig(
            workdir=work,
            classes=classes,
            n=per_class,
            length=args.length,
            vocoder="griffinlim",
            gl_iters=args.iters,
            gl_momentum=args.momentum,
            batch_size=args.batch_size,
            cpu=args.cpu,
        )
        t = time.perf_counter()
        result = synthesize(cfg)
        wall = time.perf_counter() - t
        n = sum(result.written.values())
        l1 = sum(f["mel_l1"] * f["n"] for f in result.fidelity.values()) / sum(f["n"] for f in result.fidelity.values())
        table.append(("synth (service)", n, wall, l1))

    print(f"Griffin-Lim: {args.iters} iterations, momentum {args.momentum}, device {device}, batch {args.batch_size}")
    print()
    print("| what | clips | audio s | wall s | clips/s | mel L1 mean | noise L1 mean |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for what, n, wall, l1 in table:
        secs = n * args.length
        print(f"| {what} | {n} | {secs:.0f} | {wall:.2f} | {n / wall:.2f} | {l1:.4f} | {noise:.4f} |")


if __name__ == "__main__":
    main()
