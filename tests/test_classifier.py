"""AST classifier pieces: metrics, save/reload, pretrained init (gradient reversal: test_grl.py)."""

import pytest
import torch
from safetensors.torch import save_file
from transformers import ASTForAudioClassification

from respgen.classifier.metrics import confusion_matrix, icbhi_scores
from respgen.classifier.model import (
    DISCRIMINATOR_FILE,
    AFTClassifier,
    adapt_position_embeddings,
    load_pretrained_ast,
    patch_grid,
)
from respgen.classifier.presets import PRESETS
from respgen.errors import RespgenError

CLASSES = ("normal", "crackle", "wheeze", "both")


def test_scores_from_hand_computed_confusion_matrix():
    # true \\ pred   normal crackle wheeze both
    targets = [0] * 10 + [1] * 6 + [2] * 4 + [3] * 2
    preds = [0] * 8 + [1, 2] + [1] * 3 + [0, 3, 2] + [2, 2, 0, 1] + [3, 1]
    cm = confusion_matrix(targets, preds, 4)
    assert cm.tolist() == [[8, 1, 1, 0], [1, 3, 1, 1], [1, 1, 2, 0], [0, 1, 0, 1]]
    s = icbhi_scores(cm, CLASSES)
    assert s["sp"] == pytest.approx(8 / 10)
    assert s["se"] == pytest.approx((3 + 2 + 1) / 12)  # exact-class hits over all abnormal cycles
    assert s["score"] == pytest.approx((0.8 + 0.5) / 2)
    assert s["per_class"] == {"normal": 0.8, "crackle": 0.5, "wheeze": 0.5, "both": 0.5}
    assert s["accuracy"] == pytest.approx(14 / 22)


def tiny_model(frames=98, discriminator=True, seed=0):
    torch.manual_seed(seed)
    return AFTClassifier(PRESETS["tiny"].ast_config(frames, CLASSES), discriminator=discriminator)


def test_saved_dir_reloads_with_transformers(tmp_path):
    model = tiny_model().eval()
    model.save(tmp_path)
    x = torch.randn(2, 98, 128)
    with torch.no_grad():
        ours, _ = model(x)
        ref = ASTForAudioClassification.from_pretrained(tmp_path).eval()(x).logits
        again, dom = AFTClassifier.load(tmp_path).eval()(x)
    torch.testing.assert_close(ref, ours)
    torch.testing.assert_close(again, ours)
    assert dom is not None and ref.shape == (2, 4)
    assert ASTForAudioClassification.from_pretrained(tmp_path).config.id2label == dict(enumerate(CLASSES))


def test_reload_without_or_with_an_old_mlp_discriminator(tmp_path):
    """A plain CE model has no discriminator file; an MLP discriminator of older research runs
    (Linear-ReLU-Linear) is not loaded: the class part is all that is needed after training."""
    plain = tiny_model(discriminator=False).eval()
    plain.save(tmp_path / "ce")
    assert not (tmp_path / "ce" / DISCRIMINATOR_FILE).exists()
    assert AFTClassifier.load(tmp_path / "ce").discriminator is None
    model = tiny_model().eval()
    model.save(tmp_path / "mlp")
    mlp = torch.nn.Sequential(torch.nn.LayerNorm(64), torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    save_file(mlp.state_dict(), str(tmp_path / "mlp" / DISCRIMINATOR_FILE))
    again = AFTClassifier.load(tmp_path / "mlp").eval()
    x = torch.randn(2, 98, 128)
    with torch.no_grad():
        logits, domain = again(x)
        torch.testing.assert_close(logits, model(x)[0])
    assert again.discriminator is None and domain is None


def test_discriminator_of_the_wrong_size_is_an_error(tmp_path):
    model = tiny_model()
    model.save(tmp_path)
    wrong = torch.nn.Sequential(torch.nn.LayerNorm(32), torch.nn.Linear(32, 2))
    save_file(wrong.state_dict(), str(tmp_path / DISCRIMINATOR_FILE))
    with pytest.raises(RespgenError, match="discriminator weights do not match"):
        AFTClassifier.load(tmp_path)


def test_position_embedding_adaptation():
    h = 4
    pos = torch.arange(2 * h + 3 * 10 * h, dtype=torch.float32).reshape(1, -1, h)
    cropped = adapt_position_embeddings(pos, (3, 10), (3, 6))
    grid = pos[:, 2:].reshape(1, 3, 10, h)
    assert cropped.shape == (1, 2 + 18, h)
    torch.testing.assert_close(cropped[:, :2], pos[:, :2])
    torch.testing.assert_close(cropped[:, 2:].reshape(1, 3, 6, h), grid[:, :, 2:8])  # centre crop in time
    longer = adapt_position_embeddings(pos, (3, 10), (3, 14))
    assert longer.shape == (1, 2 + 42, h)


def test_init_from_local_pretrained_with_other_length(tmp_path):
    pretrained = tiny_model(frames=498, discriminator=False, seed=3)  # e.g. trained on 5 s inputs
    pretrained.ast.save_pretrained(tmp_path / "pre")
    config = PRESETS["tiny"].ast_config(98, CLASSES)  # we use 1 s inputs
    model, note = load_pretrained_ast(str(tmp_path / "pre"), config)
    assert "adapted" in note and str(patch_grid(config)) in note
    old = pretrained.ast.audio_spectrogram_transformer.embeddings.position_embeddings
    new = model.audio_spectrogram_transformer.embeddings.position_embeddings
    f, t_old = patch_grid(pretrained.ast.config)
    _, t_new = patch_grid(config)
    assert new.shape[1] == 2 + f * t_new
    start = (t_old - t_new) // 2
    expected = old[:, 2:].reshape(1, f, t_old, -1)[:, :, start : start + t_new]
    torch.testing.assert_close(new[:, 2:].reshape(1, f, t_new, -1), expected)  # adapted, not re-initialised
    sd_new, sd_old = (
        model.audio_spectrogram_transformer.state_dict(),
        pretrained.ast.audio_spectrogram_transformer.state_dict(),
    )
    assert sd_new.keys() == sd_old.keys()
    for k in sd_old:  # every other encoder weight is the pretrained one
        if k != "embeddings.position_embeddings":
            torch.testing.assert_close(sd_new[k], sd_old[k])


def test_init_offline_hub_id_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RespgenError, match="not downloadable"):
        load_pretrained_ast("MIT/ast-finetuned-audioset-10-10-0.4593", PRESETS["tiny"].ast_config(98, CLASSES))


def test_spec_augment_masks_with_the_mean():
    from respgen.classifier.data import spec_augment

    x = torch.randn(3, 498, 128)
    assert spec_augment(x, 0.0) is x
    out = spec_augment(x, 1.0, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and not torch.equal(out, x)
    for i in range(3):
        changed = out[i] != x[i]
        assert changed.any()
        torch.testing.assert_close(out[i][changed], torch.full_like(out[i][changed], float(x[i].mean())))
    # masked columns / rows are whole frequency bins or time frames
    cols = (out[0] != x[0]).all(dim=0).sum() + (out[0] != x[0]).all(dim=1).sum()
    assert cols > 0
