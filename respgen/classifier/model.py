"""The AST classifier: transformers' ASTForAudioClassification (encoder + LayerNorm/Linear class head)
plus, for adversarial fine-tuning, a real-vs-synthetic discriminator head (LayerNorm + Linear) on the
same pooled feature behind a gradient-reversal layer. The class part saves as a plain transformers
model dir; the discriminator is saved beside it."""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import ASTConfig, ASTForAudioClassification
from transformers.utils import logging as hf_logging

from respgen.classifier.grl import grad_reverse
from respgen.errors import RespgenError

DISCRIMINATOR_FILE = "discriminator.safetensors"
OLD_MLP_KEYS = {"0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"}  # LayerNorm, Linear, ReLU, Linear


def discriminator_head(hidden: int, eps: float) -> nn.Sequential:
    """The paper's real/synthetic head: LayerNorm + Linear(hidden, 2)."""
    return nn.Sequential(nn.LayerNorm(hidden, eps=eps), nn.Linear(hidden, 2))


class AFTClassifier(nn.Module):
    def __init__(self, config: ASTConfig, discriminator: bool = True, ast: ASTForAudioClassification | None = None):
        """A new AST from `config`, or `ast` (e.g. pretrained) as it is; plus, with `discriminator`, a new
        real/synthetic head (the paper's AFT)."""
        super().__init__()
        self.ast = ast if ast is not None else ASTForAudioClassification(config)
        h, eps = self.ast.config.hidden_size, self.ast.config.layer_norm_eps
        self.discriminator = discriminator_head(h, eps) if discriminator else None

    def pooled(self, features: torch.Tensor) -> torch.Tensor:
        """[B, frames, 128] fbank -> [B, hidden] (mean of the CLS and distillation tokens)."""
        return self.ast.audio_spectrogram_transformer(features).pooler_output

    def forward(self, features: torch.Tensor, reversal: float = 0.0, with_pooled: bool = False):
        """(class logits, domain logits or None); the discriminator sees the pooled feature behind a
        gradient-reversal layer of strength `reversal`. `with_pooled` adds the pooled feature as a third
        output."""
        pooled = self.pooled(features)
        logits = self.ast.classifier(pooled)
        domain = None if self.discriminator is None else self.discriminator(grad_reverse(pooled, reversal))
        return (logits, domain, pooled) if with_pooled else (logits, domain)

    def save(self, out: Path) -> None:
        hf_logging.disable_progress_bar()
        self.ast.save_pretrained(out, safe_serialization=True)
        if self.discriminator is not None:
            save_file(
                {k: v.contiguous() for k, v in self.discriminator.state_dict().items()}, str(out / DISCRIMINATOR_FILE)
            )

    @classmethod
    def load(cls, model_dir: Path) -> "AFTClassifier":
        """A model dir written by `save`: safetensors weights only (a pickle is never loaded), and every
        weight must match `config.json` exactly (no missing, unexpected or resized weight). A
        discriminator of another shape (the MLP of older research runs) is not loaded: only the class
        part is needed after training."""
        model_dir = Path(model_dir)
        require_safetensors(model_dir)
        ast = _from_pretrained(model_dir, local_files_only=True)
        disc = model_dir / DISCRIMINATOR_FILE
        state = load_file(str(disc)) if disc.is_file() else None
        if state is not None and set(state) == OLD_MLP_KEYS:
            state = None  # the removed MLP head of older research runs
        model = cls(ast.config, discriminator=state is not None, ast=ast)
        if state is not None:
            expected = model.discriminator.state_dict()
            if state.keys() != expected.keys() or any(state[k].shape != expected[k].shape for k in state):
                raise RespgenError("discriminator weights do not match config.json", disc)
            model.discriminator.load_state_dict(state)
        return model


PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt", "model.pth", "model.ckpt")


def require_safetensors(model_dir: Path) -> None:
    """A RespgenError unless `model_dir` holds safetensors weights (pickled weights are refused, unopened)."""
    if (model_dir / "model.safetensors").is_file() or (model_dir / "model.safetensors.index.json").is_file():
        return
    pickles = [n for n in PICKLE_WEIGHTS if (model_dir / n).exists()]
    if pickles:
        raise RespgenError(
            f"{pickles[0]} is a pickle, which respgen never loads; convert the weights to "
            "model.safetensors (safetensors only)",
            model_dir,
        )
    raise RespgenError("no model.safetensors in the model dir", model_dir)


def _from_pretrained(source: str | Path, **kwargs) -> ASTForAudioClassification:
    """transformers' loader, safetensors only, with its load report turned into one error: a missing,
    unexpected or resized weight means config.json and the weights disagree (the model would run
    partly random)."""
    hf_logging.disable_progress_bar()  # no "Loading weights" bars in our output
    try:
        model, info = ASTForAudioClassification.from_pretrained(
            source, use_safetensors=True, output_loading_info=True, **kwargs
        )
    except RuntimeError as e:  # transformers raises on resized weights (after its report, which we silence)
        if "mismatch" in str(e) or "size" in str(e):
            raise RespgenError("weights do not match config.json (size mismatch)", source) from None
        raise
    problems = [
        (kind, sorted(info.get(key) or []))
        for kind, key in (
            ("missing", "missing_keys"),
            ("unexpected", "unexpected_keys"),
            ("resized", "mismatched_keys"),
        )
    ]
    problems = [(kind, keys) for kind, keys in problems if keys]
    if problems or info.get("error_msgs"):
        kind, keys = problems[0] if problems else ("unreadable", [str(info["error_msgs"][0]).splitlines()[0]])
        first = keys[0][0] if isinstance(keys[0], tuple) else keys[0]
        more = f" and {len(keys) - 1} more" if len(keys) > 1 else ""
        raise RespgenError(f"weights do not match config.json: {kind} weight {first}{more}", source)
    return model


def adapt_position_embeddings(pos: torch.Tensor, old: tuple[int, int], new: tuple[int, int]) -> torch.Tensor:
    """[1, 2 + f*t, H] position embeddings for an (f, t) patch grid -> for a (f', t') grid, as the AST
    paper does: the time axis is centre-cropped when shorter, interpolated when longer; the frequency
    axis interpolated if it differs. The two leading (CLS, distillation) embeddings are kept."""
    if old == new:
        return pos
    cls_tokens, grid = pos[:, :2], pos[:, 2:]
    h = grid.shape[-1]
    grid = grid.reshape(1, old[0], old[1], h).permute(0, 3, 1, 2)  # [1, H, f, t]
    f_new, t_new = new
    if t_new <= old[1]:
        start = (old[1] - t_new) // 2
        grid = grid[..., start : start + t_new]
    else:
        grid = F.interpolate(grid, size=(grid.shape[2], t_new), mode="bilinear", align_corners=False)
    if f_new != old[0]:
        grid = F.interpolate(grid, size=(f_new, t_new), mode="bilinear", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, f_new * t_new, h)
    return torch.cat([cls_tokens, grid], dim=1)


def reference_position_embeddings(pos: torch.Tensor, old: tuple[int, int], new: tuple[int, int]) -> torch.Tensor:
    """The reference code's adaptation (a quirk inherited from patch-mix, Classification/models/ast.py:141-161,
    main.py:234-235): it passes the frame count as the frequency size and the 128 bins as the time size,
    so it builds a (t', f') = (time patches, freq patches) table: the pretrained (f, t) table's time
    axis centre-cropped (or interpolated) to f' columns, then its frequency axis stretched (or cropped) to
    t' rows, flattened row-major, while the patch tokens come frequency-major. For AudioSet's (12, 101)
    and our (12, 49): the 12 central time columns 44:56, frequency stretched 12 -> 49, and the token at
    (fi, ti) gets entry (fi * 49 + ti) of that 49 x 12 table: scrambled positions, not a time crop."""
    cls_tokens, grid = pos[:, :2], pos[:, 2:]
    h = grid.shape[-1]
    f_old, t_old = old
    f_ref, t_ref = new[1], new[0]  # swapped, as in the reference
    grid = grid.reshape(1, f_old * t_old, h).transpose(1, 2).reshape(1, h, f_old, t_old)
    if t_ref < t_old:
        start = t_old // 2 - t_ref // 2
        grid = grid[..., start : start + t_ref]
    else:
        grid = F.interpolate(grid, size=(f_old, t_ref), mode="bilinear")
    if f_ref < f_old:
        start = f_old // 2 - f_ref // 2
        grid = grid[:, :, start : start + f_ref, :]
    elif f_ref > f_old:
        grid = F.interpolate(grid, size=(f_ref, t_ref), mode="bilinear")
    grid = grid.reshape(1, h, f_ref * t_ref).transpose(1, 2)
    return torch.cat([cls_tokens, grid], dim=1)


def patch_grid(config: ASTConfig) -> tuple[int, int]:
    f = (config.num_mel_bins - config.patch_size) // config.frequency_stride + 1
    t = (config.max_length - config.patch_size) // config.time_stride + 1
    return f, t


def load_pretrained_ast(
    source: str, config: ASTConfig, pos_embed: str = "crop"
) -> tuple[ASTForAudioClassification, str]:
    """Start from a pretrained AST (local dir or hub id); the encoder's weights are kept (position
    embeddings adapted to our number of frames: `crop` as the AST paper, `reference` as the reference
    code's quirk, see `reference_position_embeddings`), the class head is new. Returns (model, note)."""
    local = Path(source)
    if local.is_dir():
        require_safetensors(local)
    try:
        offline = local.exists() or os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
        pretrained = _from_pretrained(source, local_files_only=offline)
    except OSError as e:
        if local.exists():
            raise RespgenError(f"not a transformers AST model dir: {str(e).splitlines()[0]}", source) from None
        if "safetensors" in str(e):
            raise RespgenError(
                f"pretrained AST {source!r} has no safetensors weights (respgen loads no pickles)", source
            ) from None
        raise RespgenError(
            f"cannot load pretrained AST {source!r}: not a local dir and not downloadable (offline?); "
            "download it once online or pass a local dir",
            source,
        ) from None
    pc = pretrained.config
    for field in ("patch_size", "frequency_stride", "time_stride", "num_mel_bins"):
        setattr(config, field, getattr(pc, field))
    for field in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"):
        setattr(config, field, getattr(pc, field))
    model = ASTForAudioClassification(config)
    state = pretrained.audio_spectrogram_transformer.state_dict()
    key = "embeddings.position_embeddings"
    old_grid, new_grid = patch_grid(pc), patch_grid(config)
    adapt = reference_position_embeddings if pos_embed == "reference" else adapt_position_embeddings
    state[key] = adapt(state[key], old_grid, new_grid)
    model.audio_spectrogram_transformer.load_state_dict(state)
    note = (
        f"initialised from {source}; position embeddings adapted from {old_grid} to {new_grid} patches"
        if old_grid != new_grid
        else f"initialised from {source}"
    )
    if pos_embed == "reference":
        note += " (position embeddings the reference code's way: frames taken as frequency, scrambled positions)"
    return model, note
