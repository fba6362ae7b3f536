"""DiffWave base preset timings: one training step (batch 4 x 62 frames), one denoising step for 1 s of
audio (cached conditioner), full 6-step synthesis of 1 s of audio; side by side with the PyPI
`diffwave` package (lmnt-com) when it can be imported. On CUDA also synthesis throughput (bf16).

    python bench/bench_vocoder.py [--repeats 5] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table

from respgen.vocoder.diffusion import noise_levels, sample
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import PRESETS


def median_time(fn, repeats: int, device: str) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def train_step_fn(model, device, mel_first: bool = False):
    p = PRESETS["base"]
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    levels = noise_levels(p).to(device)
    audio = torch.randn(4, 62 * 256, device=device) * 0.1
    mel = torch.rand(4, 80, 62, device=device)

    def step():
        t = torch.randint(0, 50, (4,), device=device)
        noise = torch.randn_like(audio)
        s = levels[t].unsqueeze(1)
        noisy = s.sqrt() * audio + (1 - s).sqrt() * noise
        out = model(noisy, mel, t) if mel_first else model(noisy, t, mel)
        loss = F.l1_loss(out.squeeze(1), noise)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    dev, r = args.device, args.repeats
    torch.manual_seed(0)
    ours = DiffWave(PRESETS["base"]).to(dev)
    mel1s = torch.rand(1, 80, 62, device=dev)  # 62 frames = 15872 samples ~ 1 s
    audio1s = torch.randn(1, 62 * 256, device=dev)
    step = torch.tensor([10.452], device=dev)
    rows = []
    with torch.inference_mode():
        cond = ours.condition(mel1s)
        t_denoise = median_time(lambda: ours.denoise(audio1s, step, cond), r, dev)
        t_synth = median_time(lambda: sample(ours, mel1s, "fast"), r, dev)
    t_train = median_time(train_step_fn(ours.train(), dev), r, dev)
    rows.append(("respgen", t_train, t_denoise, t_synth))

    try:
        from diffwave.model import DiffWave as LmntDiffWave
        from diffwave.params import AttrDict
        from diffwave.params import params as lmnt_params
    except ImportError:
        LmntDiffWave = None
    if LmntDiffWave is not None:
        lp = AttrDict(lmnt_params)
        lp.override({"n_mels": 80, "unconditional": False})
        ref = LmntDiffWave(lp).to(dev)
        with torch.inference_mode():
            ref_denoise = median_time(lambda: ref(audio1s, mel1s, step), r, dev)

            def ref_sample():  # lmnt's sampler: the model (upsampler included) runs every step
                x = torch.randn_like(audio1s)
                for s in (42.919, 22.992, 10.452, 4.087, 0.894, 0.0):
                    x = torch.clamp(x - 0.01 * ref(x, mel1s, torch.tensor([s], device=dev)).squeeze(1), -1, 1)

            ref_synth = median_time(ref_sample, r, dev)
        ref_train = median_time(train_step_fn(ref.train(), dev, mel_first=True), r, dev)  # its forward is (audio, mel, step)
        rows.append(("diffwave (PyPI)", ref_train, ref_denoise, ref_synth))

    table = Table(title=f"DiffWave base preset on {dev} ({torch.get_num_threads()} threads), median of {r}")
    for col in ("implementation", "train step, batch 4x62 frames (s)", "denoise step, 1 s audio (s)", "6-step synthesis, 1 s audio (s)"):
        table.add_column(col, justify="right")
    for name, a, b, c in rows:
        table.add_row(name, f"{a:.3f}", f"{b:.3f}", f"{c:.3f}")
    if len(rows) == 2:
        table.add_row("ratio respgen / diffwave", *(f"{x / y:.2f}" for x, y in zip(rows[0][1:], rows[1][1:])))
    Console().print(table)

    if dev == "cuda":
        tput = Table(title="synthesis throughput on cuda, bf16 autocast, 4 s clips, fast schedule")
        tput.add_column("batch", justify="right")
        tput.add_column("audio-seconds / s", justify="right")
        ours.eval()
        for b in (1, 16, 64):
            mel = torch.rand(b, 80, 250, device=dev)
            t = median_time(lambda: sample(ours, mel, "fast", autocast_dtype=torch.bfloat16), max(2, r // 2), dev)
            tput.add_row(str(b), f"{b * 250 * 256 / 16000 / t:.1f}")
        Console().print(tput)


if __name__ == "__main__":
    main()
