"""respgen: generated respiratory sounds + adversarial fine-tuning against class imbalance.

Each command is a service: a function taking its pydantic config and returning a result object.

    from respgen import PrepareConfig, prepare
    prepare(PrepareConfig(icbhi_dir="ICBHI_final_database", workdir="work"))

The services live in `respgen.services` (one module per command) and are imported on first use
(they pull in torch and transformers; `respgen --help` should not wait for them).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> "module:attribute"
_EXPORTS = {
    "prepare": "respgen.services.prepare:prepare",
    "make_demo_data": "respgen.services.demo_data:make_demo_data",
    "train_vocoder": "respgen.services.vocoder_train:train_vocoder",
    "synthesize": "respgen.services.synth:synthesize",
    "finetune": "respgen.services.finetune:finetune",
    "classify": "respgen.services.classify:classify",
    "evaluate": "respgen.services.evaluate:evaluate",
    "build_report": "respgen.services.report:build_report",
    "quickstart": "respgen.services.quickstart:quickstart",
    "compare": "respgen.services.compare:compare",
    "import_vocoder": "respgen.services.vocoder_import:import_vocoder",
    **{
        name: f"respgen.config:{name}"
        for name in (
            "PrepareConfig",
            "DemoDataConfig",
            "VocoderTrainConfig",
            "SynthConfig",
            "FinetuneConfig",
            "ClassifyConfig",
            "EvaluateConfig",
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
