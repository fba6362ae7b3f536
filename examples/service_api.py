"""Use respgen from Python, without the CLI: demo data -> prepare -> finetune -> classify.

python examples/service_api.py [WORKDIR]
"""

import sys
from pathlib import Path

from respgen import (
    ClassifyConfig,
    DemoDataConfig,
    FinetuneConfig,
    PrepareConfig,
    classify,
    finetune,
    make_demo_data,
    prepare,
)


def main(work: Path) -> None:
    demo = make_demo_data(DemoDataConfig(out_dir=work / "demo-icbhi"))
    prepared = prepare(PrepareConfig(icbhi_dir=demo.out_dir, workdir=work), progress=lambda done, total: None)
    print("cycles:", prepared.counts)

    run = finetune(FinetuneConfig(workdir=work, preset="tiny", epochs=15, synthetic=False, name="api-ce"))
    test = run.metrics["test"]
    print(f"test Sp {test['sp']:.3f}  Se {test['se']:.3f}  Score {test['score']:.3f}")

    recording = sorted(demo.out_dir.glob("9[0-9][0-9]_*.wav"))[-1]  # a test-split demo recording
    result = classify(ClassifyConfig(files=[recording], model=Path(run.run_dir)))
    for segment in result.files[0].segments:
        print(f"{segment['start']:6.2f}-{segment['end']:6.2f}s  {segment['label']}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "respgen-api-work"))
