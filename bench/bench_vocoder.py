"""DiffWave base preset: respgen against the PyPI `diffwave` package (lmnt-com), in one process.

Every timed thing runs once per round, the implementations interleaved, and the table shows medians
over the rounds, so that load from other processes hits both sides alike; compare the ratios.

    python bench/bench_vocoder.py [--repeats 5] [--device cpu|cuda] [--quick] [--compile] [--workdir W]

Tables (markdown):
1. train step (batch 4 x 62 frames on CPU, 16 x 62 on CUDA), one denoising step and the 6-step
   synthesis of 1 s of audio (62 frames), for respgen (fp32, conditioner cache on and off; bf16 where
   the device supports it) and the reference, with ratios to the reference;
2. bf16 fidelity: mel L1 between the fp32 and bf16 syntheses of the same clip with the same noise,
   next to two baselines: fp32 vs fp32 with other noise, and real vs real (two real cycles);
3. on CUDA: synthesis throughput in 4 s clips per second at batch 1/16/64, fp32 and bf16, both
   implementations, and train steps per second.

`--compile` adds rows with `torch.compile` (skipped with a note where compilation fails).
`--workdir` takes the trained vocoder and real cycles of a respgen workdir for table 2 (default:
random weights, real cycles from ../shared/data/icbhi-mini when present, else random mels).
`--quick` (GPU: a few minutes in all): 2 rounds, fewer batch sizes for the reference.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from respgen.features import vocoder_mel
from respgen.vocoder.diffusion import noise_levels, sample
from respgen.vocoder.fast import FastDiffWave, cpu_has_bf16, default_cache, make_optimizer
from respgen.vocoder.model import DiffWave
from respgen.vocoder.params import PRESETS

P = PRESETS["base"]
REF_STEPS = (42.919, 22.992, 10.452, 4.087, 0.894, 0.0)  # lmnt's fast-schedule steps for this schedule


def sync(dev: str) -> None:
    if dev == "cuda":
        torch.cuda.synchronize()


def timed(fn, dev: str) -> float:
    sync(dev)
    t = time.perf_counter()
    fn()
    sync(dev)
    return time.perf_counter() - t


def interleaved(fns: dict, rounds: int, dev: str) -> dict[str, float]:
    """Median seconds of each fn over `rounds` rounds, one call of each per round (after one warm-up)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for k, fn in list(fns.items()):
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - a variant that cannot run here is reported, not fatal
            print(f"skipped {k}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            del fns[k], times[k]
    for _ in range(rounds):
        for k, fn in fns.items():
            times[k].append(timed(fn, dev))
    return {k: statistics.median(v) for k, v in times.items()}


def load_reference(dev: str):
    try:
        from diffwave.model import DiffWave as LmntDiffWave
        from diffwave.params import AttrDict
        from diffwave.params import params as lmnt_params
    except ImportError:
        return None
    lp = AttrDict(lmnt_params)
    lp.override({"n_mels": 80, "unconditional": False})
    return LmntDiffWave(lp).to(dev)


def train_step_fn(model, opt, dev: str, batch: int, ref: bool = False, amp: torch.dtype | None = None):
    levels = noise_levels(P).to(dev)
    audio = torch.randn(batch, P.crop_frames * P.hop, device=dev) * 0.1
    mel = torch.rand(batch, P.n_mels, P.crop_frames, device=dev)

    def step():
        t = torch.randint(0, P.diffusion_steps, (batch,), device=dev)
        noise = torch.randn_like(audio)
        s = levels[t].unsqueeze(1)
        noisy = s.sqrt() * audio + (1 - s).sqrt() * noise
        with torch.autocast(dev, dtype=amp, enabled=amp is not None):
            out = model(noisy, mel, t) if ref else model(noisy, t, mel)  # lmnt's forward is (audio, mel, step)
        loss = F.l1_loss(out.squeeze(1).float(), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def ref_sampler(ref, mel: torch.Tensor, amp: torch.dtype | None = None):
    """lmnt's fast sampler, reduced to its cost: the whole model (upsampler and conditioner projections
    included) runs at each of the 6 steps."""
    dev = mel.device.type

    @torch.inference_mode()
    def run():
        x = torch.randn(mel.shape[0], mel.shape[-1] * P.hop, device=mel.device)
        with torch.autocast(dev, dtype=amp, enabled=amp is not None):
            for s in REF_STEPS:
                eps = ref(x, mel, torch.tensor([s], device=mel.device)).squeeze(1).float()
                x = torch.clamp(x - 0.01 * eps, -1, 1)
        return x

    return run


def md_table(title: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "|".join("--:" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def try_compile(fn, name: str):
    try:
        return torch.compile(fn)
    except Exception as exc:  # noqa: BLE001
        print(f"torch.compile unavailable for {name}: {exc}")
        return None


def speed_table(args, dev: str, rounds: int, bf16: bool) -> str:
    torch.manual_seed(0)
    ours = DiffWave(P).to(dev).eval()
    ref = load_reference(dev)
    mel1s = torch.rand(1, P.n_mels, P.crop_frames, device=dev)  # 62 frames = 15,872 samples ~ 1 s
    audio1s = torch.randn(1, P.crop_frames * P.hop, device=dev)
    step = torch.tensor([10.452], device=dev)
    train_batch = 16 if dev == "cuda" else 4

    variants: dict[str, dict] = {}  # name -> {"train": fn, "denoise": fn, "synth": fn}
    dtypes = [("fp32", torch.float32)] + ([("bf16", torch.bfloat16)] if bf16 else [])
    for label, dt in dtypes:
        for cache in (default_cache(dev), not default_cache(dev)):
            if dev == "cuda" and cache:
                continue  # [30 layers x 128 x T] per clip: too much memory at GPU batch sizes
            net = FastDiffWave(ours, dt, cache=cache)
            with torch.inference_mode():
                cond = net.condition(mel1s)
            name = f"respgen {label}, cache {'on' if cache else 'off'}" + (
                " (default)" if cache == default_cache(dev) and label == "fp32" else ""
            )
            variants[name] = {
                "denoise": (lambda n=net, c=cond: n.denoise(audio1s, step, c)),
                "synth": (lambda d=dt, c=cache: sample(ours, mel1s, "fast", autocast_dtype=d, cache=c)),
            }
    first = next(iter(variants))
    train_model = DiffWave(P).to(dev).train()
    variants[first]["train"] = train_step_fn(train_model, make_optimizer(train_model, 2e-4), dev, train_batch)
    if bf16:
        amp_model = DiffWave(P).to(dev).train()
        variants[next(k for k in variants if "bf16" in k)]["train"] = train_step_fn(
            amp_model, make_optimizer(amp_model, 2e-4), dev, train_batch, amp=torch.bfloat16
        )
    if args.compile:
        comp_model = DiffWave(P).to(dev).train()
        compiled = try_compile(comp_model, "the train step")
        if compiled is not None:
            variants["respgen fp32, torch.compile"] = {
                "train": train_step_fn(compiled, make_optimizer(comp_model, 2e-4), dev, train_batch)
            }
        denoise = try_compile(ours.denoise, "denoise")
        if denoise is not None:
            with torch.inference_mode():
                cond = ours.condition(mel1s)
            variants["respgen fp32, torch.compile"] = {
                **variants.get("respgen fp32, torch.compile", {}),
                "denoise": lambda: denoise(audio1s, step, cond),
            }
    if ref is not None:
        ref_train = load_reference(dev).train()
        variants["diffwave (PyPI)"] = {
            "train": train_step_fn(
                ref_train, torch.optim.Adam(ref_train.parameters(), lr=2e-4), dev, train_batch, ref=True
            ),
            "denoise": lambda: ref(audio1s, mel1s, step),
            "synth": ref_sampler(ref, mel1s),
        }
    cols = ("train", "denoise", "synth")
    fns = {(name, col): v[col] for name, v in variants.items() for col in cols if col in v}
    for fn_key in [k for k in fns if k[1] != "train"]:
        f = fns[fn_key]
        fns[fn_key] = lambda f=f: torch.inference_mode()(f)()
    res = interleaved(fns, rounds, dev)
    ref_name = "diffwave (PyPI)"
    header = [
        "implementation",
        f"train step, batch {train_batch}x62 frames (s)",
        "denoise step, 1 s audio (s)",
        "6-step synthesis, 1 s audio (s)",
        "train / ref",
        "denoise / ref",
        "synthesis / ref",
    ]
    rows = []
    for name in variants:
        cells = [name] + [f"{res[(name, c)]:.3f}" if (name, c) in res else "-" for c in cols]
        for c in cols:
            ok = (name, c) in res and (ref_name, c) in res
            cells.append(f"{res[(name, c)] / res[(ref_name, c)]:.2f}" if ok else "-")
        rows.append(cells)
    title = f"DiffWave base preset on {dev} ({torch.get_num_threads()} threads), median of {rounds} interleaved rounds"
    return md_table(title, header, rows)


def real_clips(args, n: int, frames: int) -> list[torch.Tensor]:
    """Up to n real cycles (audio, 16 kHz) of at least `frames` frames: from --workdir's manifest, else
    from the icbhi-mini recordings next to the repository."""
    from respgen.audio import load_audio

    need = frames * P.hop
    paths: list[Path] = []
    if args.workdir:
        from respgen.data.manifest import load_clip
        from respgen.workspace import Workspace

        ws = Workspace(args.workdir)
        clips = [load_clip(ws.manifest, r, P.sample_rate) for r in ws.real_rows(("train",))]
        return [c[:need] for c in clips if c.shape[-1] >= need][:n]
    mini = Path(__file__).resolve().parents[2] / "shared" / "data" / "icbhi-mini"
    paths = sorted(mini.glob("*.wav")) if mini.is_dir() else []
    out = []
    for p in paths:
        wave = torch.as_tensor(load_audio(p, P.sample_rate)).float()
        if wave.shape[-1] >= 2 * need:
            out.append(wave[need : 2 * need])  # skip the first second
        if len(out) == n:
            break
    return out


def fidelity_table(args, dev: str) -> str:
    """mel L1 (the vocoder's own log-mel, in [0, 1]) between fp32 and bf16 syntheses, same clip, same noise."""
    frames = 250 if not args.quick else 125
    if args.workdir:
        from respgen.vocoder.checkpoint import load_vocoder
        from respgen.workspace import Workspace

        model, _ = load_vocoder(Workspace(args.workdir).vocoder)
        model = model.to(dev).eval()
        what = f"trained vocoder of {args.workdir}"
    else:
        torch.manual_seed(1)
        model = DiffWave(P).to(dev).eval()
        torch.nn.init.normal_(model.output_projection.weight, std=0.05)  # random net with a live output
        what = "random weights (output projection re-initialised)"
    p = model.params
    reals = real_clips(args, 4, frames)
    if len(reals) < 2:
        torch.manual_seed(2)
        reals = [torch.rand(frames * p.hop) * 0.2 - 0.1 for _ in range(2)]
        what += "; no real cycles found, random audio instead"

    def mel(a: torch.Tensor) -> torch.Tensor:
        return vocoder_mel(a.float().cpu(), **p.mel_kwargs())

    def l1(a: torch.Tensor, b: torch.Tensor) -> float:
        return float((mel(a) - mel(b)).abs().mean())

    rows = []
    bf16_l1, noise_l1 = [], []
    for i, wave in enumerate(reals[:2]):
        cond = mel(wave)[None, :, :frames].to(dev)

        def synth(dtype: torch.dtype, seed: int, cond: torch.Tensor = cond) -> torch.Tensor:
            return sample(model, cond, "fast", [torch.Generator().manual_seed(seed)], dtype)[0]

        a32 = synth(torch.float32, 10 + i)
        bf16_l1.append(l1(a32, synth(torch.bfloat16, 10 + i)))
        noise_l1.append(l1(a32, synth(torch.float32, 99 + i)))
    real_l1 = [l1(reals[i], reals[j]) for i in range(len(reals)) for j in range(i + 1, len(reals))]
    rows.append(["fp32 vs bf16, same clip, same noise", f"{statistics.mean(bf16_l1):.5f}"])
    rows.append(["fp32 vs fp32, same clip, other noise", f"{statistics.mean(noise_l1):.5f}"])
    rows.append([f"real vs real ({len(real_l1)} pairs of real cycles)", f"{statistics.mean(real_l1):.5f}"])
    return md_table(
        f"bf16 fidelity on {dev}: mean |log-mel difference|, {frames} frames, {what}", ["pair", "mel L1"], rows
    )


def throughput_table(args, dev: str, rounds: int) -> str:
    """4 s clips (250 frames) per second through the 6-step sampler, and train steps per second."""
    torch.manual_seed(0)
    ours = DiffWave(P).to(dev).eval()
    ref = load_reference(dev)
    frames = 250
    rows = []
    for b in (1, 16, 64):
        mel = torch.rand(b, P.n_mels, frames, device=dev)
        fns = {}
        for label, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            fns[("respgen", label)] = lambda m=mel, d=dt: sample(ours, m, "fast", autocast_dtype=d)
            if ref is not None and (b <= 16 or not args.quick):
                fns[("diffwave (PyPI)", label)] = ref_sampler(ref, mel, None if dt == torch.float32 else dt)
        res = interleaved(fns, rounds, dev)
        for label in ("fp32", "bf16"):
            ours_t = res.get(("respgen", label))
            ref_t = res.get(("diffwave (PyPI)", label))
            rows.append(
                [
                    str(b),
                    label,
                    f"{b / ours_t:.2f}" if ours_t else "-",
                    f"{b / ref_t:.2f}" if ref_t else "-",
                    f"{ref_t / ours_t:.2f}" if ours_t and ref_t else "-",
                    f"{1000 / (b / ours_t):.1f}" if ours_t else "-",
                ]
            )
        del mel
        torch.cuda.empty_cache()
    out = md_table(
        f"synthesis throughput on {torch.cuda.get_device_name()}: 4 s clips (250 frames), 6-step fast schedule",
        ["batch", "precision", "respgen clips/s", "diffwave (PyPI) clips/s", "speed-up", "respgen: s per 1,000 clips"],
        rows,
    )
    rows = []
    for batch in (16, 64):
        fns = {}
        for label, amp in (("fp32", None), ("bf16 autocast", torch.bfloat16)):
            m = DiffWave(P).to(dev).train()
            fns[("respgen", label)] = train_step_fn(m, make_optimizer(m, 2e-4), dev, batch, amp=amp)
            if ref is not None:
                r = load_reference(dev).train()
                fns[("diffwave (PyPI)", label)] = train_step_fn(
                    r, torch.optim.Adam(r.parameters(), lr=2e-4), dev, batch, ref=True, amp=amp
                )
        res = interleaved(fns, rounds, dev)
        for label in ("fp32", "bf16 autocast"):
            o, r = res.get(("respgen", label)), res.get(("diffwave (PyPI)", label))
            rows.append(
                [
                    str(batch),
                    label,
                    f"{1 / o:.2f}" if o else "-",
                    f"{1 / r:.2f}" if r else "-",
                    f"{r / o:.2f}" if o and r else "-",
                ]
            )
    out += "\n" + md_table(
        "train steps per second (62-frame crops)",
        ["batch", "precision", "respgen", "diffwave (PyPI)", "speed-up"],
        rows,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5, help="interleaved rounds (medians)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="2 rounds, fewer reference runs")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile variants")
    ap.add_argument(
        "--workdir", type=Path, default=None, help="trained vocoder + real cycles for the bf16 fidelity table"
    )
    ap.add_argument("--skip", default="", help="comma-separated tables to skip: speed,fidelity,throughput")
    args = ap.parse_args()
    dev = args.device
    rounds = 2 if args.quick else args.repeats
    skip = set(filter(None, args.skip.split(",")))
    bf16 = dev == "cuda" or cpu_has_bf16()
    if dev == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32
        torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__}, device {dev}, bf16 {'native' if bf16 else 'not native: skipped'}\n")
    if "speed" not in skip:
        print(speed_table(args, dev, rounds, bf16), flush=True)
    if bf16 and "fidelity" not in skip:
        print(fidelity_table(args, dev), flush=True)
    if dev == "cuda" and "throughput" not in skip:
        print(throughput_table(args, dev, rounds), flush=True)


if __name__ == "__main__":
    main()
