"""Independent fidelity check of a workspace's synthetic cycles (issue 10 item 6; research code:
bench/research/README.md; results in docs/research-notes.md).

Recomputes from the audio (ignoring the `mel_l1` values `synth` stored) for each class of a synthetic
set (`--set`, default: the workspace's default set): the mean log-mel L1 distance of the synthetic clips
to the real cycles they were conditioned on, the loudness-matched noise baseline, the real-vs-real
baseline, and the label agreement of a real-only classifier (`finetune --no-synthetic`), then checks
item 6's thresholds: label agreement >= 70% and mel L1 <= 0.6 x noise for crackle and wheeze.
(`respgen report` / `compare` measure the same fidelity, plus realism and diversity, through
`respgen.synthetic_quality`; this script is the independent recomputation the search used.)

    python bench/research/fidelity_check.py WORKDIR --model WORKDIR/models/real-only [--set NAME] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from respgen.classifier.store import load_model_dir
from respgen.data.manifest import load_clip, read_rows
from respgen.fidelity import clip_fidelity, label_agreement, real_l1
from respgen.synthetic_quality import ClassifierOutputs
from respgen.workspace import Workspace


def check(workdir: Path, model_dir: Path | None, set_name: str | None = None) -> dict:
    ws = Workspace(workdir)
    set_name = set_name or ws.default_synthetic_set()
    if set_name is None:
        raise SystemExit(f"no synthetic set in {workdir} (run `respgen synth` first)")
    real_manifest, synth_manifest = ws.manifest, ws.synthetic_set(set_name, must_exist=True).manifest
    real = [r for r in read_rows(real_manifest) if r["split"] == "train"]
    by_id = {r["id"]: r for r in real}
    synth = read_rows(synth_manifest)
    model = ClassifierOutputs(load_model_dir(model_dir)) if model_dir else None
    out = {}
    for c in sorted({r["label"] for r in synth}):
        rows = sorted((r for r in synth if r["label"] == c), key=lambda r: r["id"])
        fid = [
            clip_fidelity(load_clip(synth_manifest, r), load_clip(real_manifest, by_id[r["conditioned_on"]]), r["id"])
            for r in rows
        ]
        n = load_clip(synth_manifest, rows[0]).shape[0]
        agreement, predicted_counts = None, None
        if model:
            predicted = model.outputs(synth_manifest, rows)[0]
            agreement = label_agreement(predicted, c)
            predicted_counts = {k: predicted.count(k) for k in sorted(set(predicted))}
        mel, noise = sum(f["mel_l1"] for f in fid) / len(fid), sum(f["mel_l1_noise"] for f in fid) / len(fid)
        out[c] = {
            "n": len(rows),
            "mel_l1": mel,
            "mel_l1_noise": noise,
            "ratio_to_noise": mel / noise,
            "mel_l1_real": real_l1([r for r in real if r["label"] == c], real_manifest, n),
            "label_agreement": agreement,
            "predicted": predicted_counts,
        }
    passed = all(
        c in out and out[c]["ratio_to_noise"] <= 0.6 and (out[c]["label_agreement"] or 0) >= 0.7
        for c in ("crackle", "wheeze")
    )
    return {"set": set_name, "classes": out, "thresholds_met": passed}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--model", type=Path, default=None, help="real-only model dir (label agreement)")
    ap.add_argument("--set", default=None, help="synthetic set (default: the workspace's default set)")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    result = check(a.workdir, a.model, a.set)
    text = json.dumps(result, indent=1)
    print(text)
    if a.json:
        a.json.write_text(text)
