"""respgen: generated respiratory sounds + adversarial fine-tuning against class imbalance.

Each command is a service: a function taking its pydantic config and returning a result object.

    from respgen import PrepareConfig, prepare
    prepare(PrepareConfig(icbhi_dir="ICBHI_final_database", workdir="work"))
"""

__version__ = "0.1.0"

from respgen.build_report import build_report  # noqa: E402
from respgen.classify import classify  # noqa: E402
from respgen.config import (  # noqa: E402
    ClassifyConfig,
    DemoDataConfig,
    FinetuneConfig,
    PrepareConfig,
    QuickstartConfig,
    ReportConfig,
    SynthConfig,
    VocoderTrainConfig,
)
from respgen.demo_data import make_demo_data  # noqa: E402
from respgen.errors import RespgenError  # noqa: E402
from respgen.finetune import finetune  # noqa: E402
from respgen.prepare import prepare  # noqa: E402
from respgen.quickstart import quickstart  # noqa: E402
from respgen.synth import synthesize  # noqa: E402
from respgen.train_vocoder import train_vocoder  # noqa: E402

__all__ = [
    "__version__",
    "RespgenError",
    "prepare", "PrepareConfig",
    "make_demo_data", "DemoDataConfig",
    "train_vocoder", "VocoderTrainConfig",
    "synthesize", "SynthConfig",
    "finetune", "FinetuneConfig",
    "classify", "ClassifyConfig",
    "build_report", "ReportConfig",
    "quickstart", "QuickstartConfig",
]
