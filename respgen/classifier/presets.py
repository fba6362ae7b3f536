"""AST sizes and their training defaults. `base` is AST-base with the paper's fine-tuning settings;
`tiny` is small enough to train from scratch on a CPU in a minute (it needs its own learning rate
and epochs: the paper's 5e-5 barely moves a randomly initialised model)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from transformers import ASTConfig


class ClassifierPreset(BaseModel):
    model_config = ConfigDict(frozen=True)

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    stride: int  # frequency and time patch stride (16 = no overlap)
    epochs: int
    batch_size: int
    lr: float

    def ast_config(self, frames: int, labels: tuple[str, ...]) -> ASTConfig:
        return ASTConfig(
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            frequency_stride=self.stride,
            time_stride=self.stride,
            max_length=frames,
            num_mel_bins=128,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={name: i for i, name in enumerate(labels)},
        )


PRESETS = {
    "base": ClassifierPreset(
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        stride=10,
        epochs=50,
        batch_size=32,
        lr=5e-5,
    ),
    "tiny": ClassifierPreset(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        stride=16,
        epochs=25,
        batch_size=16,
        lr=5e-4,
    ),
}
