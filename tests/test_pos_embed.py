"""`pos_embed = "reference"`: the reference code's adaptation of AudioSet position embeddings, which
takes frames as the frequency size (a quirk), against our default time crop."""

import torch

from respgen.classifier.model import (
    AFTClassifier,
    adapt_position_embeddings,
    load_pretrained_ast,
    patch_grid,
    reference_position_embeddings,
)
from respgen.classifier.presets import PRESETS

CLASSES = ("normal", "crackle", "wheeze", "both")


def coordinate_table(f: int, t: int) -> torch.Tensor:
    """[1, 2 + f*t, 2] position embeddings whose entry for patch (fi, ti) is (fi, ti); CLS/dist = -1."""
    fi, ti = torch.meshgrid(torch.arange(f, dtype=torch.float64), torch.arange(t, dtype=torch.float64), indexing="ij")
    grid = torch.stack([fi, ti], dim=-1).reshape(1, f * t, 2)
    return torch.cat([torch.full((1, 2, 2), -1.0, dtype=torch.float64), grid], dim=1)


def stretched(row: int, old: int, new: int) -> float:
    """Bilinear (align_corners=False) resampling of 0..old-1 to `new` points, at output `row`."""
    src = min(max((row + 0.5) * old / new - 0.5, 0.0), old - 1)
    return src


def test_audioset_table_to_498_frames_crop_vs_reference():
    pos = coordinate_table(12, 101)  # AudioSet AST: 12 frequency x 101 time patches
    ours = adapt_position_embeddings(pos, (12, 101), (12, 49))[0, 2:]
    ref = reference_position_embeddings(pos, (12, 101), (12, 49))[0, 2:]
    assert ours.shape == ref.shape == (588, 2)
    for fi in range(12):
        for ti in range(49):
            k = fi * 49 + ti  # the token order of the patch embedding: frequency-major
            assert ours[k].tolist() == [fi, 26 + ti]  # the central 49 time columns 26:75
            # the reference: a 49 x 12 table (frequency stretched 12 -> 49, time columns 44:56), row-major
            r, c = divmod(k, 12)
            assert abs(ref[k, 1].item() - (44 + c)) < 1e-9
            assert abs(ref[k, 0].item() - stretched(r, 12, 49)) < 1e-9
    # scrambled: the token at frequency 1, time 0 gets time column 45 and frequency ~0.6, not (1, 26)
    assert ours[49].tolist() == [1, 26]
    torch.testing.assert_close(ref[49], torch.tensor([4.5 * 12 / 49 - 0.5, 45.0], dtype=torch.float64))


def test_reference_mode_when_loading_a_pretrained_ast(tmp_path):
    torch.manual_seed(3)
    pretrained = AFTClassifier(PRESETS["tiny"].ast_config(498, CLASSES), discriminator=False)
    with torch.no_grad():  # (a new AST starts with all-zero position embeddings)
        pretrained.ast.audio_spectrogram_transformer.embeddings.position_embeddings.normal_()
    pretrained.ast.save_pretrained(tmp_path / "pre")
    config = PRESETS["tiny"].ast_config(98, CLASSES)
    model, note = load_pretrained_ast(str(tmp_path / "pre"), config, pos_embed="reference")
    assert "reference" in note
    old = pretrained.ast.audio_spectrogram_transformer.embeddings.position_embeddings.detach()
    new = model.audio_spectrogram_transformer.embeddings.position_embeddings.detach()
    expected = reference_position_embeddings(old, patch_grid(pretrained.ast.config), patch_grid(config))
    torch.testing.assert_close(new, expected)
    crop, _ = load_pretrained_ast(str(tmp_path / "pre"), config)
    assert not torch.equal(crop.audio_spectrogram_transformer.embeddings.position_embeddings.detach(), new)
