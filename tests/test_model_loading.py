"""Model dirs a user hands in: safetensors only (a pickle is never unpickled) and weights that match
config.json exactly; every failure is exit 2 and one line."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from respgen.classifier.data import n_frames
from respgen.classifier.model import AFTClassifier, load_pretrained_ast
from respgen.classifier.presets import PRESETS
from respgen.classifier.run_record import SeedRecord
from respgen.classifier.store import FeatureSpec, save_model_dir
from respgen.errors import RespgenError
from respgen.labels import CLASSES


class Marker:
    """Unpickling this creates the marker file: proof that a pickle was loaded."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "good"
    model = AFTClassifier(PRESETS["tiny"].ast_config(n_frames(1.0), CLASSES), discriminator=True)
    save_model_dir(
        out, model, list(CLASSES), FeatureSpec(16000, 1.0, "repeat", n_frames(1.0)), {}, {}, [], SeedRecord()
    )
    return out


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "a.wav"
    sf.write(str(path), 0.1 * np.random.default_rng(0).standard_normal(16000 * 2).astype(np.float32), 16000)
    return path


def variant(good: Path, tmp_path: Path, name: str = "m") -> Path:
    out = tmp_path / name
    shutil.copytree(good, out)
    return out


def pickled(good: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of `good` whose weights are a `pytorch_model.bin` pickle that would create a marker file."""
    out = variant(good, tmp_path, "pickled")
    (out / "model.safetensors").unlink()
    marker = tmp_path / "UNPICKLED"
    (out / "pytorch_model.bin").write_bytes(pickle.dumps({"weights": Marker(marker)}))
    return out, marker


def edit_config(model_dir: Path, **changes) -> None:
    cfg = json.loads((model_dir / "config.json").read_text())
    cfg.update(changes)
    (model_dir / "config.json").write_text(json.dumps(cfg))


def one_line_error(r, *fragments) -> str:
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def test_good_dir_classifies(cli, good: Path, wav: Path):
    r = cli("classify", wav, "--model", good, "--json")
    assert r.exit_code == 0, r.output
    assert r.stderr.strip() == ""


def test_pickle_weights_refused_unopened(cli, good: Path, wav: Path, tmp_path: Path):
    model_dir, marker = pickled(good, tmp_path)
    line = one_line_error(cli("classify", wav, "--model", model_dir), "pytorch_model.bin", "safetensors")
    assert "weights_only" not in line
    with pytest.raises(RespgenError, match="pickle"):  # --init from the same dir
        load_pretrained_ast(str(model_dir), PRESETS["tiny"].ast_config(n_frames(1.0), CLASSES))
    assert not marker.exists()
    # even beside a safetensors file a pickle is never read
    shutil.copy(good / "model.safetensors", model_dir / "model.safetensors")
    assert cli("classify", wav, "--model", model_dir).exit_code == 0
    assert not marker.exists()


def test_more_layers_in_config_is_an_error(cli, good: Path, wav: Path, tmp_path: Path):
    model_dir = variant(good, tmp_path)
    edit_config(model_dir, num_hidden_layers=3)
    one_line_error(cli("classify", wav, "--model", model_dir), "do not match config.json", "missing weight")
    with pytest.raises(RespgenError, match="missing weight"):
        load_pretrained_ast(str(model_dir), PRESETS["tiny"].ast_config(n_frames(1.0), CLASSES))


def test_fewer_layers_in_config_is_an_error(cli, good: Path, wav: Path, tmp_path: Path):
    model_dir = variant(good, tmp_path)
    edit_config(model_dir, num_hidden_layers=1)
    one_line_error(cli("classify", wav, "--model", model_dir), "do not match config.json", "unexpected weight")


def test_size_mismatch_is_one_line(cli, good: Path, wav: Path, tmp_path: Path):
    model_dir = variant(good, tmp_path)
    edit_config(model_dir, hidden_size=32, intermediate_size=64)
    one_line_error(cli("classify", wav, "--model", model_dir), "do not match config.json")


def test_discriminator_mismatch(cli, good: Path, wav: Path, tmp_path: Path):
    from safetensors.torch import load_file, save_file

    model_dir = variant(good, tmp_path)
    state = load_file(str(model_dir / "discriminator.safetensors"))  # the paper's head: LayerNorm + Linear
    # the same weights, resized (a discriminator file of another shape, e.g. an older research run's MLP
    # head, is not loaded at all: test_classifier.py)
    save_file({k: v[..., :-1].contiguous() for k, v in state.items()}, str(model_dir / "discriminator.safetensors"))
    one_line_error(cli("classify", wav, "--model", model_dir), "discriminator weights do not match")


def test_no_weights_at_all(cli, good: Path, wav: Path, tmp_path: Path):
    model_dir = variant(good, tmp_path)
    (model_dir / "model.safetensors").unlink()
    one_line_error(cli("classify", wav, "--model", model_dir), "no model.safetensors")


def test_finetune_init_from_pickle_dir(cli, good: Path, demo_copy: Path, tmp_path: Path):
    model_dir, marker = pickled(good, tmp_path)
    r = cli(
        "finetune",
        "--workdir",
        demo_copy,
        "--preset",
        "tiny",
        "--epochs",
        "1",
        "--length",
        "1.0",
        "--init",
        model_dir,
        "--name",
        "x",
    )
    one_line_error(r, "pytorch_model.bin")
    assert not marker.exists() and not (demo_copy / "models" / "x").exists()
