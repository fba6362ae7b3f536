"""DiffWave (Kong et al., 2021), following lmnt-com/diffwave, split so that the mel conditioning —
which does not depend on the diffusion step — is computed once per clip (`condition`) and reused
by every denoising step (`denoise`)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from respgen.vocoder.params import VocoderParams


def _conv1d(*args, **kwargs) -> nn.Conv1d:
    layer = nn.Conv1d(*args, **kwargs)
    nn.init.kaiming_normal_(layer.weight)
    return layer


class DiffusionEmbedding(nn.Module):
    """128-d sinusoidal table over the training steps (linearly interpolated for fractional steps),
    then two Linear+SiLU layers to 512."""

    def __init__(self, max_steps: int):
        super().__init__()
        steps = torch.arange(max_steps).unsqueeze(1)
        dims = torch.arange(64).unsqueeze(0)
        table = steps * 10.0 ** (dims * 4.0 / 63.0)
        self.register_buffer("embedding", torch.cat([torch.sin(table), torch.cos(table)], dim=1), persistent=False)
        self.projection1 = nn.Linear(128, 512)
        self.projection2 = nn.Linear(512, 512)

    def forward(self, step: torch.Tensor) -> torch.Tensor:
        if step.dtype in (torch.int32, torch.int64):
            x = self.embedding[step]
        else:
            low_idx, high_idx = torch.floor(step).long(), torch.ceil(step).long()
            low, high = self.embedding[low_idx], self.embedding[high_idx]
            x = low + (high - low) * (step - low_idx).unsqueeze(-1)
        x = F.silu(self.projection1(x))
        return F.silu(self.projection2(x))


class SpectrogramUpsampler(nn.Module):
    """Two transposed 2-D convs, x16 in time each (x256 = hop), leaky ReLU 0.4."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.ConvTranspose2d(1, 1, (3, 32), stride=(1, 16), padding=(1, 8))
        self.conv2 = nn.ConvTranspose2d(1, 1, (3, 32), stride=(1, 16), padding=(1, 8))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(mel.unsqueeze(1)), 0.4)
        return F.leaky_relu(self.conv2(x), 0.4).squeeze(1)


class _Gate(torch.autograd.Function):
    """sigmoid(gate) * tanh(filter) for y = [gate | filter] along dim 1, fused: tanh(f) is computed as
    2 sigmoid(2f) - 1 (torch's CPU tanh is several times slower than its sigmoid), only the two
    activations are saved, and the backward writes the gradient of y in one tensor (no chunk/cat)."""

    @staticmethod
    def forward(ctx, y: torch.Tensor) -> torch.Tensor:
        g, f = torch.chunk(y, 2, dim=1)
        sg = torch.sigmoid(g)
        tf = torch.sigmoid(f * 2.0).mul_(2.0).sub_(1.0)
        ctx.save_for_backward(sg, tf)
        return sg * tf

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        sg, tf = ctx.saved_tensors
        c = sg.shape[1]
        dy = torch.empty(*sg.shape[:1], 2 * c, *sg.shape[2:], dtype=grad.dtype, device=grad.device)
        gs = grad * sg
        torch.mul(gs * tf, 1.0 - sg, out=dy[:, :c])  # d/dg: grad * tanh(f) * sg * (1 - sg)
        torch.mul(gs, 1.0 - tf * tf, out=dy[:, c:])  # d/df: grad * sg * (1 - tanh(f)^2)
        return dy


def gate(y: torch.Tensor) -> torch.Tensor:
    """DiffWave's gated activation sigmoid(y[:, :C]) * tanh(y[:, C:]), fused."""
    return _Gate.apply(y)


class ResidualBlock(nn.Module):
    def __init__(self, n_mels: int, channels: int, dilation: int):
        super().__init__()
        self.dilated_conv = _conv1d(channels, 2 * channels, 3, padding=dilation, dilation=dilation)
        self.diffusion_projection = nn.Linear(512, channels)
        self.conditioner_projection = _conv1d(n_mels, 2 * channels, 1)
        self.output_projection = _conv1d(channels, 2 * channels, 1)

    def forward(self, x: torch.Tensor, step_emb: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`cond` is this block's conditioner projection, precomputed by `DiffWave.condition`."""
        y = self.dilated_conv(x + self.diffusion_projection(step_emb).unsqueeze(-1)) + cond
        y = self.output_projection(gate(y))
        residual, skip = torch.chunk(y, 2, dim=1)
        return (x + residual) / math.sqrt(2.0), skip


class DiffWave(nn.Module):
    def __init__(self, params: VocoderParams):
        super().__init__()
        self.params = params
        c = params.residual_channels
        self.input_projection = _conv1d(1, c, 1)
        self.diffusion_embedding = DiffusionEmbedding(params.diffusion_steps)
        self.spectrogram_upsampler = SpectrogramUpsampler()
        self.residual_layers = nn.ModuleList(
            ResidualBlock(params.n_mels, c, 2 ** (i % params.dilation_cycle)) for i in range(params.residual_layers)
        )
        self.skip_projection = _conv1d(c, c, 1)
        self.output_projection = _conv1d(c, 1, 1)
        nn.init.zeros_(self.output_projection.weight)

    def condition(self, mel: torch.Tensor) -> list[torch.Tensor]:
        """[B, n_mels, frames] -> per-layer conditioner projections [B, 2C, frames * hop]; step-independent."""
        up = self.spectrogram_upsampler(mel)
        return [layer.conditioner_projection(up) for layer in self.residual_layers]

    def denoise(self, audio: torch.Tensor, step: torch.Tensor, cond: list[torch.Tensor]) -> torch.Tensor:
        """Predict the noise in `audio` [B, T] at diffusion `step` (int or fractional, [B] or [1])."""
        x = F.relu(self.input_projection(audio.unsqueeze(1)))
        emb = self.diffusion_embedding(step)
        skip = None
        for layer, c in zip(self.residual_layers, cond):
            x, s = layer(x, emb, c)
            skip = s if skip is None else skip + s
        x = F.relu(self.skip_projection(skip / math.sqrt(len(self.residual_layers))))
        return self.output_projection(x).squeeze(1)

    def forward(self, audio: torch.Tensor, step: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        return self.denoise(audio, step, self.condition(mel))
