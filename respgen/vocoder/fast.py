"""Fast DiffWave inference: the same network as `respgen.vocoder.model.DiffWave`, re-laid out for speed.

The weights of a trained `DiffWave` are folded once into a `FastDiffWave` (nothing is saved; the
checkpoint format does not change). The denoising step then runs in a time-major layout
`[T * B, C]` (row `t * B + b`), where every convolution of the network is a plain matrix product:

- the dilated convolution (kernel 3, dilation d) is three GEMMs on row-shifted *views* of the same
  activations (a shift by d samples is a shift by `d * B` rows), accumulated in place — no im2col,
  no padding copies;
- the per-layer conditioner projections of the upsampled mel are either cached once per clip
  (`[L, T * B, 2C]`, one batched GEMM) or recomputed at each step (`cache=False`);
- the residual update and the skip sum are GEMMs that accumulate in place (`addmm_` with the
  `1/sqrt(2)` folded into the weights and the biases carried by a constant-one column);
- `tanh(f)` is computed as `2 * sigmoid(2f) - 1` (the 2 folded into the weights) so that the gate is
  one vectorised sigmoid over both halves: torch's CPU tanh is several times slower than its sigmoid;
- the diffusion-step projections of all layers are one matrix product per step.

In fp32 the result is deterministic (same input -> same bytes) and equals `DiffWave.forward` to float
rounding (~1e-6); `dtype=torch.bfloat16` runs the GEMMs in bf16 (fp32 accumulation inside oneDNN / cuBLAS).
"""

from __future__ import annotations

import math

import torch

from respgen.vocoder.model import DiffWave

SQRT_HALF = 1.0 / math.sqrt(2.0)


class FastDiffWave:
    """Inference-only folded copy of a `DiffWave`'s weights (follows the model's device)."""

    def __init__(self, model: DiffWave, dtype: torch.dtype = torch.float32, cache: bool = True):
        self.model = model
        self.params = model.params
        self.dtype = dtype
        self.cache = cache
        self._fold()

    @torch.no_grad()
    def _fold(self) -> None:
        m, dt = self.model, self.dtype
        c = self.params.residual_channels
        layers = list(m.residual_layers)
        self.n_layers = len(layers)
        self.dilations = [layer.dilated_conv.dilation[0] for layer in layers]
        # tanh(f) = 2 sigmoid(2f) - 1: the filter half (rows c:2c) of everything that feeds the gate is doubled
        scale = torch.ones(2 * c, device=m.input_projection.weight.device)
        scale[c:] = 2.0
        self.w_in = m.input_projection.weight.reshape(1, c).clone()  # 1 -> C: an outer product
        self.b_in = m.input_projection.bias.reshape(1, c).clone()
        # all layers' diffusion projections: [512, L*C]
        self.wd = torch.cat([layer.diffusion_projection.weight for layer in layers], 0).t().contiguous()
        self.bd = torch.cat([layer.diffusion_projection.bias for layer in layers], 0)
        # dilated conv taps [L, 3, C, 2C]; conditioner [L, n_mels, 2C]; biases of both merged [L, 2C]
        taps = torch.stack([layer.dilated_conv.weight * scale[:, None, None] for layer in layers])  # [L, 2C, C, 3]
        self.taps = taps.permute(0, 3, 2, 1).contiguous().to(dt)
        self.wc = (
            torch.stack([(layer.conditioner_projection.weight[:, :, 0] * scale[:, None]).t() for layer in layers])
            .contiguous()
            .to(dt)
        )
        self.bc = torch.stack(
            [(layer.dilated_conv.bias + layer.conditioner_projection.bias) * scale for layer in layers]
        )
        # without the cache: [centre tap; conditioner; bias] stacked for the [h | mel | 1] GEMM
        self.wcat = torch.cat([self.taps[:, 1], self.wc, self.bc[:, None].to(dt)], 1).contiguous()
        # output projection split into residual (scaled by 1/sqrt 2) and skip halves, bias as the last row
        wo_res, wo_skip = [], []
        for layer in layers:
            w = layer.output_projection.weight[:, :, 0].t()  # [C, 2C]
            b = layer.output_projection.bias[None]  # [1, 2C]
            aug = torch.cat([w, b], 0)  # [C+1, 2C]
            wo_res.append(aug[:, :c] * SQRT_HALF)
            wo_skip.append(aug[:, c:])
        self.wo_res = torch.stack(wo_res).contiguous().to(dt)
        self.wo_skip = torch.stack(wo_skip).contiguous().to(dt)
        # final skip projection (the 1/sqrt(L) folded in) and output projection
        self.w_skip = (m.skip_projection.weight[:, :, 0].t() / math.sqrt(self.n_layers)).contiguous().to(dt)
        self.b_skip = m.skip_projection.bias.to(dt)
        self.w_out = m.output_projection.weight[:, :, 0].t().contiguous().to(dt)  # [C, 1]
        self.b_out = m.output_projection.bias.to(dt)

    @torch.no_grad()
    def condition(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, n_mels, frames] -> what every step reuses: with the cache, all layers' conditioner
        projections (biases included) [L, T*B, 2C]; without it, the upsampled mel, time-major
        [T*B, n_mels] (projected again at each step, inside the centre-tap GEMM)."""
        up = self.model.spectrogram_upsampler(mel.float())  # [B, n_mels, T]
        up = up.permute(2, 0, 1).reshape(-1, up.shape[1]).to(self.dtype)
        if not self.cache:
            return up.contiguous()
        cond = torch.empty(self.n_layers, up.shape[0], self.wc.shape[-1], device=up.device, dtype=self.dtype)
        for i in range(self.n_layers):
            torch.addmm(self.bc[i].to(self.dtype), up, self.wc[i], out=cond[i])
        return cond

    @torch.no_grad()
    def denoise(self, audio: torch.Tensor, step: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Predicted noise [B, T] (fp32) for `audio` [B, T] at `step` ([1] or [B]), `cond` from `condition`."""
        b, t = audio.shape
        c, dt, dev = self.params.residual_channels, self.dtype, audio.device
        rows = t * b
        # input projection (1 -> C) + relu, time-major; the residual stream and the skip sum stay fp32
        x = torch.relu(audio.t().reshape(rows, 1).float() * self.w_in + self.b_in)
        emb = self.model.diffusion_embedding(step.to(dev))  # [1 or B, 512]
        e = torch.addmm(self.bd, emb, self.wd).view(-1, self.n_layers, c)  # [1 or B, L, C]
        if self.cache:
            hu = torch.empty(rows, c, device=dev, dtype=dt)
        else:  # [h | upsampled mel | 1]: the centre tap, the conditioner and both biases in one GEMM
            hu = torch.empty(rows, c + cond.shape[1] + 1, device=dev, dtype=dt)
            hu[:, c : c + cond.shape[1]] = cond
            hu[:, -1] = 1.0
        h = hu[:, :c]
        z = torch.empty(rows, c + 1, device=dev, dtype=dt)
        z[:, c] = 1.0  # carries the output projection's bias
        skip = torch.zeros(rows, c, device=dev, dtype=torch.float32)
        x3, h3 = x.view(t, b, c), h.view(t, b, c)
        for i, d in enumerate(self.dilations):
            torch.add(x3, e[:, i], out=h3)
            w = self.taps[i]
            y = torch.addmm(cond[i], h, w[1]) if self.cache else hu @ self.wcat[i]
            s = d * b
            if s < rows:
                y[s:].addmm_(h[:-s], w[0])
                y[:-s].addmm_(h[s:], w[2])
            y = torch.sigmoid_(y)  # [sigmoid(gate) | sigmoid(2 filter)]
            torch.mul(y[:, :c], y[:, c:].mul_(2.0).sub_(1.0), out=z[:, :c])
            if dt == torch.float32:
                x.addmm_(z, self.wo_res[i], beta=SQRT_HALF)
                skip.addmm_(z, self.wo_skip[i])
            else:
                x.mul_(SQRT_HALF).add_(z @ self.wo_res[i])
                skip.add_(z @ self.wo_skip[i])
        out = torch.relu(torch.addmm(self.b_skip, skip.to(dt), self.w_skip))
        out = torch.addmm(self.b_out, out, self.w_out)  # [T*B, 1]
        return out.view(t, b).t().float()


def default_cache(device: torch.device | str) -> bool:
    """Whether to cache the per-layer conditioner projections for `device`, decided by measurement
    (`bench/bench_vocoder.py`, docs/benchmarks.md)."""
    return torch.device(device).type == "cpu"


def bytes_per_sample(params, cache: bool, dtype: torch.dtype = torch.float32) -> int:
    """Memory one audio sample of one clip needs during `sample` (cache + working buffers), for batching."""
    c, elt = params.residual_channels, torch.finfo(dtype).bits // 8
    work = 4 * (3 * c) + elt * (c + params.n_mels + 1 + 2 * c + c + 1) + 4 * 2 * c  # x, skip, eps | hu, y, z | slack
    return work + (params.residual_layers * 2 * c * elt if cache else 0)


def fast_dtype(precision: str | None, device: torch.device | str) -> torch.dtype:
    """The compute dtype for `precision` ("no"/None, "bf16", "fp16") on `device` (fp16 only on GPUs)."""
    if precision in (None, "no", "fp32"):
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16" and torch.device(device).type != "cpu":
        return torch.float16
    return torch.float32


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """`auto` -> "bf16" where `device` computes bf16 natively (a CUDA GPU with bf16, a CPU with
    AVX512-BF16 or AMX), else "no" (fp32). Other values pass through. Measured in docs/benchmarks.md:
    on such CPUs bf16 makes 6-step synthesis ~3x and a training step ~1.7x faster, and changes a clip's
    log-mel by ~5e-5 (real-vs-real cycles differ by ~0.1)."""
    if precision != "auto":
        return precision
    dev = torch.device(device)
    if dev.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "no"
    return "bf16" if dev.type == "cpu" and cpu_has_bf16() else "no"


def cpu_has_bf16() -> bool:
    """True where the CPU has native bf16 dot products (AVX512-BF16 or AMX), i.e. where bf16 pays."""
    cap = torch.backends.cpu.get_cpu_capability()
    if cap not in ("AVX512", "AVX512_BF16", "AMX"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Adam:
    """The vocoder's Adam, fused (one kernel over all parameters) where this torch supports it."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(model.parameters(), lr=lr)
