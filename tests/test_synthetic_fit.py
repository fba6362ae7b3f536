"""`synthetic_fit = "resize"`: a synthetic clip's fbank at its own length is resized to the real clips'
frame count, as the reference's torchvision `Resize((498, 128))` (bilinear) on its 4 s generated clips."""

import numpy as np
import torch

from respgen.classifier.data import clip_features, n_frames, resize_frames
from respgen.features import ast_fbank


def bilinear_rows(a: np.ndarray, out_rows: int) -> np.ndarray:
    """Half-pixel bilinear resampling along axis 0 (the width is unchanged), written out by hand."""
    scale = a.shape[0] / out_rows
    out = np.empty((out_rows, a.shape[1]))
    for i in range(out_rows):
        src = max((i + 0.5) * scale - 0.5, 0.0)
        lo = min(int(np.floor(src)), a.shape[0] - 1)
        hi = min(lo + 1, a.shape[0] - 1)
        w = src - lo
        out[i] = (1 - w) * a[lo] + w * a[hi]
    return out


def test_a_4s_synthetic_clip_is_stretched_from_400_to_498_frames():
    audio = torch.randn(64256, generator=torch.Generator().manual_seed(0))  # DiffWave: 251 frames x 256
    own = ast_fbank(audio)
    assert own.shape == (400, 128) and n_frames(5.0) == 498
    feats = clip_features(audio, 5.0, "repeat", fit="resize")
    assert feats.shape == (498, 128)
    np.testing.assert_allclose(
        feats.numpy(), bilinear_rows(own.double().numpy(), 498), atol=1e-4
    )  # float32 source indices
    # not padded: the padded version repeats the start of the clip after 4 s
    padded = clip_features(audio, 5.0, "repeat")
    assert not torch.allclose(feats[-50:], padded[-50:])


def test_resize_is_the_identity_for_a_real_5s_clip():
    fb = torch.randn(498, 128)
    assert torch.equal(resize_frames(fb, 498), fb)
    audio = torch.randn(80000)
    assert torch.equal(clip_features(audio, 5.0, "repeat", fit="resize"), clip_features(audio, 5.0, "repeat"))
