"""DiffWave hyper-parameters as one plain pydantic object, with the `base`, `tiny` and `demo` presets."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from respgen.sample_rate import SAMPLE_RATE

FAST_INFERENCE_SCHEDULE = (1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5)


class VocoderParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    residual_layers: int = 30
    residual_channels: int = 64
    dilation_cycle: int = 10
    n_mels: int = 80
    hop: int = 256
    n_fft: int = 1024
    f_min: float = 20.0
    f_max: float = 8000.0
    sample_rate: int = SAMPLE_RATE
    beta_start: float = 1e-4
    beta_end: float = 0.05
    diffusion_steps: int = 50
    inference_schedule: tuple[float, ...] = FAST_INFERENCE_SCHEDULE
    crop_frames: int = 62

    def mel_kwargs(self) -> dict:
        return dict(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            hop=self.hop,
            n_mels=self.n_mels,
            f_min=self.f_min,
            f_max=self.f_max,
        )


PRESETS: dict[str, VocoderParams] = {
    "base": VocoderParams(),  # the paper's DiffWave_BASE
    "tiny": VocoderParams(residual_layers=4, residual_channels=16, dilation_cycle=4),  # CPU tests
    # CPU, demo data: see docs/benchmarks.md for its measured fidelity and training time
    "demo": VocoderParams(residual_layers=12, residual_channels=48, dilation_cycle=6, crop_frames=48),
}
