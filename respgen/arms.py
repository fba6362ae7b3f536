"""compare's arms, defined once: what each changes in the shared `finetune` settings and how every view
(compare's table, the report's runs) labels it; and which arm a finetune run is, as it records it
(`training.mode` in `respgen.json`). Torch-free."""

from __future__ import annotations

from typing import Any, NamedTuple


class ArmSpec(NamedTuple):
    label: str
    settings: dict[str, Any]  # the flat finetune keys the arm sets


AUGMENT_SET = "augment"  # the synthetic set the ce-aug arm reads: `synth --vocoder augment` writes it
ONCE = ("ce", "ce-aug")  # arms that run once, whatever synthetic sets are compared (ce-aug reads AUGMENT_SET)


ARMS: dict[str, ArmSpec] = {
    "ce": ArmSpec("CE (real only)", {"aft": False, "synthetic": False}),
    "ce-over": ArmSpec("CE + oversampling", {"aft": False, "synthetic": False, "oversample": True}),
    "ce-aug": ArmSpec("CE + augmentation", {"aft": False, "synthetic": True}),  # classic waveform augmentation
    "ce-syn": ArmSpec("CE + synthetic", {"aft": False, "synthetic": True}),  # the naive mix
    "aft": ArmSpec("AFT", {"aft": True, "synthetic": True}),  # with the configured --adversary
    "aft-grl": ArmSpec("AFT, GRL (paper)", {"aft": True, "synthetic": True, "adversary": "grl"}),
    "aft-paired": ArmSpec("AFT, paired", {"aft": True, "synthetic": True, "adversary": "paired"}),
}


def run_mode(aft: bool, oversampled: bool, synthetic: bool, augmented: bool = False) -> str:
    """The arm a finetune run is (its recorded `mode`): aft, ce-over, ce-aug (real + augmented), ce-syn
    (real + synthetic) or ce."""
    if aft:
        return "aft"
    if oversampled:
        return "ce-over"
    if synthetic:
        return "ce-aug" if augmented else "ce-syn"
    return "ce"


def arm_label(mode: str, adversary: str | None = None) -> str:
    """How a run of this mode is labelled (an AFT run by its adversary: `aft-grl`'s or `aft-paired`'s label)."""
    arm = f"aft-{adversary}" if mode == "aft" and adversary else mode
    return ARMS[arm].label if arm in ARMS else mode
