"""Near-copy and seed-spread measures (respgen.diversity)."""

import pytest

from respgen.diversity import NEAR_COPY_RATIO, diversity_sentence, diversity_summary


def test_near_copy_and_ratios():
    clips = [
        {"label": "crackle", "mel_l1": 0.01, "mel_l1_other_seed": 0.004},
        {"label": "crackle", "mel_l1": 0.03, "mel_l1_other_seed": 0.002},
        {"label": "wheeze", "mel_l1": 0.15},
        {"label": "both", "mel_l1": 0.1},
    ]
    s = diversity_summary(clips, {"crackle": 0.2, "wheeze": 0.2, "both": None}, ["normal", "crackle", "wheeze", "both"])
    assert set(s) == {"crackle", "wheeze", "both"}
    c, w, b = s["crackle"], s["wheeze"], s["both"]
    assert c["copy_ratio"] == pytest.approx(0.1) and c["near_copy"] is True
    assert c["seed_spread"] == pytest.approx(0.003) and c["seed_spread_ratio"] == pytest.approx(0.015)
    assert w["copy_ratio"] == pytest.approx(0.75) and w["near_copy"] is False
    assert w["seed_spread"] is None and w["seed_spread_ratio"] is None
    assert b["copy_ratio"] is None and b["near_copy"] is False  # no real-vs-real baseline
    assert 0 < NEAR_COPY_RATIO < 1


def test_sentences():
    s = diversity_summary(
        [{"label": "crackle", "mel_l1": 0.014, "mel_l1_other_seed": 0.004}, {"label": "wheeze", "mel_l1": 0.15}],
        {"crackle": 0.2, "wheeze": 0.2},
        ["crackle", "wheeze", "both"],
    )
    assert diversity_sentence("crackle", s["crackle"]) == (
        "crackle: near-copies of their sources (distance 0.07x real-vs-real; two seeds differ by 0.02x)"
    )
    assert diversity_sentence("wheeze", s["wheeze"]) == (
        "wheeze: differ from their sources (distance 0.75x real-vs-real; seed spread not measured)"
    )
    none = diversity_summary([{"label": "both", "mel_l1": 0.1}], {}, ["both"])["both"]
    assert diversity_sentence("both", none).startswith("both: no real-vs-real distance")
