"""respgen: generated respiratory sounds + adversarial fine-tuning against class imbalance.

Each command is a service: a function taking its pydantic config and returning a result object.

    from respgen import PrepareConfig, prepare
    prepare(PrepareConfig(icbhi_dir="ICBHI_final_database", workdir="work"))

The services are imported on first use (they pull in torch and transformers; `respgen --help`
should not wait for them).
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

# public name -> "module:attribute"
_EXPORTS = {
    "prepare": "respgen.prepare:prepare",
    "make_demo_data": "respgen.demo_data:make_demo_data",
    "train_vocoder": "respgen.train_vocoder:train_vocoder",
    "synthesize": "respgen.synth:synthesize",
    "finetune": "respgen.finetune:finetune",
    "classify": "respgen.classify:classify",
    "build_report": "respgen.build_report:build_report",
    "quickstart": "respgen.quickstart:quickstart",
    "compare": "respgen.compare:compare",
    "import_vocoder": "respgen.import_vocoder:import_vocoder",
    **{
        name: f"respgen.config:{name}"
        for name in (
            "PrepareConfig",
            "DemoDataConfig",
            "VocoderTrainConfig",
            "SynthConfig",
            "FinetuneConfig",
            "ClassifyConfig",
            "ReportConfig",
            "QuickstartConfig",
            "CompareConfig",
            "VocoderImportConfig",
        )
    },
    "RespgenError": "respgen.errors:RespgenError",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'respgen' has no attribute {name!r}")
    module, attr = _EXPORTS[name].split(":")
    return getattr(importlib.import_module(module), attr)


class _Package(types.ModuleType):
    """Importing the submodule `respgen.prepare` would bind the name `prepare` on the package to the
    module, hiding the service function of the same name; keep such names resolving to the function."""

    def __setattr__(self, name: str, value) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
