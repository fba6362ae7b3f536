"""One place where services get their `accelerate.Accelerator`.

accelerate keeps its state (device, mixed precision) in a process-wide singleton and refuses a second
Accelerator with another precision. Several services run in one process (`quickstart`, `compare`, the
Python API, the tests: e.g. `vocoder train` in bf16, then `finetune` in fp32), so each service starts
from a fresh accelerator state; the process group (torchrun / accelerate launch) is kept."""

from __future__ import annotations

from typing import Any

from accelerate import Accelerator
from accelerate.state import AcceleratorState


def new_accelerator(**kwargs: Any) -> Accelerator:
    """`Accelerator(**kwargs)` after forgetting an earlier service's accelerator settings."""
    AcceleratorState._reset_state(reset_partial_state=False)
    return Accelerator(**kwargs)
