"""One rule for which folder holds a run's model: a several-seed run's first seed *as given*. finetune's
`models/latest`, compare's label model, the report (runs, errors, feature space) and `run_info` all
agree on it, whatever the order of `--seeds`."""

import json
from pathlib import Path

import pytest

from respgen.classifier.run_record import model_dir_of, seed_dir
from respgen.classifier.store import run_info
from respgen.config import FinetuneConfig
from respgen.services.finetune import finetune

FAST = dict(preset="tiny", epochs=1, length=1.0, batch_size=16, synthetic=False)


def test_seed_dir_rule(tmp_path: Path):
    assert seed_dir(tmp_path, [7]) == tmp_path
    assert seed_dir(tmp_path, [3, 1]) == tmp_path / "seed-3"
    assert seed_dir(tmp_path, [3, 1], 1) == tmp_path / "seed-1"
    assert model_dir_of(tmp_path) is None  # no metrics.json: not a finished run


@pytest.mark.parametrize("seeds", [[3, 1], [1, 2]])
def test_report_errors_follow_latest_after_several_seeds(cli, demo_copy: Path, seeds: list[int]):
    run = Path(finetune(FinetuneConfig(workdir=demo_copy, seeds=seeds, name="multi", **FAST)).run_dir)
    first = run / f"seed-{seeds[0]}"
    assert (demo_copy / "models" / "latest").resolve() == first.resolve()
    assert model_dir_of(run) == first
    assert run_info(run)["training"]["seed"] == seeds[0]
    for extra in ([], ["--run", "multi"]):  # the default errors run is the one latest points into
        r = cli("report", "--workdir", demo_copy, "--no-audio", "--json", *extra)
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout)
        assert not any("errors section" in m for m in out["missing"]), out["missing"]
        errors = out["errors"]
        assert errors["run"] == "multi" and Path(errors["model_dir"]) == first
        # the probabilities played are the confusion's seed's: the same number of wrong cycles
        assert errors["n_wrong"] == errors["recorded_wrong"]
