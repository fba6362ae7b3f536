"""`synth`: new cycles of a class by re-vocoding mels of real train cycles of that class with fresh noise
(DiffWave) or a fresh random initial phase (Griffin-Lim), into a named synthetic set `synth/<set>/`."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Callable

import torch

from respgen.accelerator import new_accelerator
from respgen.atomic import write_jsonl
from respgen.audio import write_wav
from respgen.config import SynthConfig
from respgen.data.manifest import SyntheticClip, load_clip
from respgen.errors import RespgenError
from respgen.features import fit_length, vocoder_mel
from respgen.fidelity import class_summary, clip_fidelity, mel_l1, rows_fidelity
from respgen.labels import parse_classes
from respgen.lock import locked
from respgen.vocoder.checkpoint import load_vocoder
from respgen.vocoder.diffusion import sample
from respgen.vocoder.fast import bytes_per_sample, default_cache, fast_dtype, resolve_precision
from respgen.vocoder.griffinlim import GriffinLimSettings, griffinlim_vocode
from respgen.vocoder.params import VocoderParams
from respgen.workspace import Workspace

# The first SPREAD_CLIPS clips of each class (k < 4) that a run writes are vocoded a second time from the
# same conditioning mel with the seed `spread_seed` (the clip's seed XOR SPREAD_XOR); the row records the
# mel L1 between the two as `mel_l1_other_seed` (how much the seed alone changes a clip). The second
# synthesis is not saved.
SPREAD_CLIPS = 4
SPREAD_XOR = 0x5EED


@dataclass
class SynthResult:
    manifest: str
    set: str  # the synthetic set written: synth/<set>/
    written: dict[str, int]  # class -> clips written by this run
    total: dict[str, int]  # class -> clips now in the manifest
    vocoder: dict
    fidelity: dict  # class -> {n, mel_l1, mel_l1_noise}: see respgen.fidelity

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def conditioning_order(ids: list[str], k: int, seed: int, label: str, mode: str = "permutation") -> str:
    """The real clip the k-th synthetic clip of `label` is conditioned on. `permutation`: a seeded
    permutation of the class's real cycles, each used once before any is reused (a fresh permutation
    per pass). `random`: drawn uniformly with replacement, as the reference's `random.randrange`
    (inference.py:168; seeded here per clip, so a resumed run draws the same)."""
    n = len(ids)
    if mode == "random":
        return sorted(ids)[random.Random(f"{seed}:{label}:random:{k}").randrange(n)]
    rng = random.Random(f"{seed}:{label}:{k // n}")
    order = sorted(ids)
    rng.shuffle(order)
    return order[k % n]


def clip_seed(seed: int, label: str, k: int) -> int:
    return zlib.crc32(f"{seed}:{label}:{k}".encode())


def spread_seed(seed: int, label: str, k: int) -> int:
    """The seed of the k-th clip's second synthesis (`mel_l1_other_seed`)."""
    return clip_seed(seed, label, k) ^ SPREAD_XOR


def _kind(row: dict) -> str:
    vocoder = row.get("vocoder")
    return vocoder.get("kind", "diffwave") if isinstance(vocoder, dict) else "diffwave"  # before kinds: diffwave


@locked("synth")
def synthesize(cfg: SynthConfig, progress: Callable[..., None] | None = None) -> SynthResult:
    """Make `cfg.n` synthetic clips of each class in `cfg.classes` in the set `cfg.set_name` (default: the
    vocoder's name), resuming: clips already listed with their audio present are kept.

    Reads `data/manifest.jsonl` (the real train cycles to condition on) and, for `diffwave`, the latest
    vocoder checkpoint (`griffinlim` needs none); writes `synth/<set>/<class>/<id>.wav` and
    `synth/<set>/manifest.jsonl` (one `SyntheticClip` per line, rewritten atomically after every batch)."""
    ws = Workspace(cfg.workdir)
    synthetic_set = ws.synthetic_set(cfg.set_name or cfg.vocoder)
    classes = parse_classes(cfg.classes, ws.classes())
    real = ws.real_rows(("train",))
    by_class = {c: [r for r in real if r["label"] == c] for c in classes}
    for c, rows in by_class.items():
        if not rows:
            raise RespgenError(f"no real train cycles of class {c!r} to condition on", ws.manifest)
    # resume: keep rows whose files exist; each class needs cfg.n in total
    existing = synthetic_set.rows(require_audio=False)
    other = sorted({_kind(r) for r in existing} - {cfg.vocoder})
    if other:
        raise RespgenError(
            f"synthetic set {synthetic_set.name!r} holds {other[0]} clips, not {cfg.vocoder}: choose another --set",
            synthetic_set.manifest,
        )
    accelerator = new_accelerator(cpu=cfg.cpu)
    device = accelerator.device
    if cfg.vocoder == "griffinlim":
        gl = GriffinLimSettings(cfg.gl_iters, cfg.gl_momentum)
        params = VocoderParams()  # the mel every preset shares (features.vocoder_mel's defaults)
        vocoder_info = gl.provenance()
        batch = cfg.batch_size

        def vocode(mels: torch.Tensor, gens: list[torch.Generator]) -> torch.Tensor:
            return griffinlim_vocode(mels, params, gl.n_iter, gl.momentum, gens, gl.inverse).cpu()

    else:
        model, ckpt = load_vocoder(ws.vocoder)
        vocoder_info = {"kind": "diffwave", "step": ckpt.step, "hash": ckpt.digest(), "checkpoint": ckpt.path.name}
        model.to(device)
        params = model.params
        dtype = fast_dtype(resolve_precision(cfg.precision, device), device)
        guide = GriffinLimSettings(cfg.gl_iters, cfg.gl_momentum) if cfg.guide_strength < 1 else None
        if guide is not None:  # SDEdit from the Griffin-Lim estimate
            vocoder_info["guide"] = {**guide.provenance(), "strength": cfg.guide_strength}

        def vocode(mels: torch.Tensor, gens: list[torch.Generator]) -> torch.Tensor:
            init = None
            if guide is not None:
                seeds = [torch.Generator().manual_seed(g.initial_seed() ^ 0x61) for g in gens]
                init = griffinlim_vocode(mels.cpu(), params, guide.n_iter, guide.momentum, seeds, guide.inverse)
            return sample(model, mels, cfg.steps, gens, dtype, init=init, strength=cfg.guide_strength).cpu()

    n_samples = int(round(cfg.length * params.sample_rate))
    if cfg.trim:
        frames = -(-n_samples // params.hop)  # vocode whole frames, then cut to the exact length
        cond_samples = frames * params.hop
    else:  # the reference: vocode every mel frame of the LENGTH-second clip (4 s: 251 frames -> 64256 samples)
        frames = 1 + n_samples // params.hop
        cond_samples = n_samples
        n_samples = frames * params.hop
    if cfg.vocoder == "diffwave":
        per_clip_bytes = bytes_per_sample(params, default_cache(device), dtype) * frames * params.hop
        batch = max(1, min(cfg.batch_size, int(cfg.max_cache_gb * 2**30 // per_clip_bytes)))

    done_ids = {r["id"] for r in existing}
    todo = []
    for c in classes:
        real_by_id = {r["id"]: r for r in by_class[c]}
        for k in range(cfg.n):
            cid = f"{c}_{k:05d}"
            if cid not in done_ids:
                src = conditioning_order(list(real_by_id), k, cfg.seed, c, cfg.conditioning)
                todo.append((c, k, cid, real_by_id[src]))
    rows = list(existing)
    written = {c: 0 for c in classes}
    for i in range(0, len(todo), batch):
        chunk = todo[i : i + batch]
        mels = torch.stack(
            [
                vocoder_mel(
                    fit_length(
                        load_clip(ws.manifest, src, params.sample_rate), cond_samples, "repeat", cfg.fade_samples
                    ),
                    **params.mel_kwargs(),
                )[:, :frames]
                for _, _, _, src in chunk
            ]
        ).to(device)
        gens = [torch.Generator().manual_seed(clip_seed(cfg.seed, c, k)) for c, k, _, _ in chunk]
        # the seed spread: a second synthesis of the chunk's first clips, in the same batches
        spread = [j for j, (_, k, _, _) in enumerate(chunk) if k < SPREAD_CLIPS]
        mels = torch.cat([mels, mels[spread]])
        gens += [torch.Generator().manual_seed(spread_seed(cfg.seed, chunk[j][0], chunk[j][1])) for j in spread]
        audio = torch.cat([vocode(mels[b : b + batch], gens[b : b + batch]) for b in range(0, len(gens), batch)])
        other_seed = dict(zip(spread, audio[len(chunk) :]))
        for j, ((c, k, cid, src), wave) in enumerate(zip(chunk, audio[: len(chunk)])):
            write_wav(synthetic_set.root / c / f"{cid}.wav", wave[:n_samples], params.sample_rate)
            real_audio = load_clip(ws.manifest, src, params.sample_rate)
            fid = clip_fidelity(wave[:n_samples], real_audio, cid, **params.mel_kwargs())
            if j in other_seed:
                fid["mel_l1_other_seed"] = round(
                    mel_l1(wave[:n_samples], other_seed[j][:n_samples], **params.mel_kwargs()), 6
                )
            rows.append(
                SyntheticClip(
                    id=cid,
                    path=f"{c}/{cid}.wav",
                    label=c,
                    split="train",
                    source="synthetic",
                    conditioned_on=src["id"],
                    patient=src["patient"],
                    vocoder=vocoder_info,
                    seed=clip_seed(cfg.seed, c, k),
                    **({"steps": cfg.steps} if cfg.vocoder == "diffwave" else {}),
                    sample_rate=params.sample_rate,
                    duration=n_samples / params.sample_rate,
                    **fid,
                )
            )
            written[c] += 1
        rows.sort(key=lambda r: r["id"])
        write_jsonl(synthetic_set.manifest, rows)  # after each batch: an interrupted run keeps what it made
        if progress:
            progress(min(i + batch, len(todo)), len(todo))
    if not synthetic_set.manifest.is_file():
        write_jsonl(synthetic_set.manifest, rows)
    total = {c: sum(1 for r in rows if r["label"] == c) for c in classes}
    mine = [r for r in rows if r["label"] in classes]
    real_by_id = {r["id"]: r for r in real}
    fidelity = class_summary(rows_fidelity(synthetic_set.manifest, mine, ws.manifest, real_by_id), classes)
    return SynthResult(
        manifest=str(synthetic_set.manifest),
        set=synthetic_set.name,
        written=written,
        total=total,
        vocoder=vocoder_info,
        fidelity=fidelity,
    )
