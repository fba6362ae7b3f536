"""`synth`: new cycles of a class by re-vocoding mels of real train cycles of that class with fresh noise
(DiffWave) or a fresh random initial phase (Griffin-Lim), optionally varied within the class first
(`--vary`), or by passing the real cycles through conventional waveform augmentation (`--vocoder augment`),
into a named synthetic set `synth/<set>/`."""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch

from respgen import compute_log
from respgen.accelerator import new_accelerator
from respgen.atomic import write_jsonl
from respgen.audio import write_wav
from respgen.augment import draw as draw_augment
from respgen.config import SynthConfig
from respgen.data.manifest import SyntheticClip, load_clip
from respgen.errors import RespgenError
from respgen.features import fit_length, vocoder_mel
from respgen.fidelity import class_summary, clip_fidelity, mel_l1, rows_fidelity
from respgen.labels import parse_classes
from respgen.lock import locked
from respgen.vocoder.griffinlim import GriffinLimSettings
from respgen.vocoder.synthesis import (
    ClipFraming,
    Revocoder,
    augment_revocoder,
    clip_framing,
    diffwave_revocoder,
    griffinlim_revocoder,
)
from respgen.vocoder.vary import VaryDraw, VaryStrength, vary_mel
from respgen.vocoder.vary import draw as draw_variation
from respgen.workspace import SyntheticSet, Workspace

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


class _Clip(NamedTuple):
    """One synthetic clip to make: the `k`-th of class `label`, conditioned on the real row `source`; with
    --vary, its mel varied by `vary` (mixed with the real row `partner` of the same class when it has one)."""

    label: str
    k: int
    id: str
    source: dict
    vary: VaryDraw | None = None
    partner: dict | None = None


@dataclass
class _Run:
    """What every batch of one `synthesize` run shares."""

    cfg: SynthConfig
    ws: Workspace
    synthetic_set: SyntheticSet
    device: torch.device
    vocoder: Revocoder
    framing: ClipFraming
    batch: int  # clips vocoded together


@locked("synth")
def synthesize(cfg: SynthConfig, progress: Callable[..., None] | None = None) -> SynthResult:
    """Make `cfg.n` synthetic clips of each class in `cfg.classes` in the set `cfg.set_name` (default: the
    vocoder's name), resuming: clips already listed with their audio present are kept.

    Reads `data/manifest.jsonl` (the real train cycles to condition on) and, for `diffwave`, the latest
    vocoder checkpoint (`griffinlim` needs none); writes `synth/<set>/<class>/<id>.wav` and
    `synth/<set>/manifest.jsonl` (one `SyntheticClip` per line, rewritten atomically after every batch)."""
    if cfg.vary and cfg.vocoder == "augment":
        raise RespgenError(
            "--vary varies the mel a vocoder is conditioned on: use it with diffwave or griffinlim, not augment"
        )
    started = time.perf_counter(), time.process_time()
    ws = Workspace(cfg.workdir)
    synthetic_set = ws.synthetic_set(cfg.set_name or cfg.vocoder)
    classes = parse_classes(cfg.classes, ws.classes())
    real = ws.real_rows(("train",))
    by_class = _real_by_class(ws, real, classes)
    existing = _resumable_rows(cfg, synthetic_set)  # each class needs cfg.n in total
    run = _start_run(cfg, ws, synthetic_set)
    todo = _plan_clips(cfg, classes, by_class, {r["id"] for r in existing})
    rows = list(existing)
    written = {c: 0 for c in classes}
    for i in range(0, len(todo), run.batch):
        for row in _make_clips(run, todo[i : i + run.batch]):
            rows.append(row)
            written[row["label"]] += 1
        rows.sort(key=lambda r: r["id"])
        write_jsonl(synthetic_set.manifest, rows)  # after each batch: an interrupted run keeps what it made
        if progress:
            progress(min(i + run.batch, len(todo)), len(todo))
    if not synthetic_set.manifest.is_file():
        write_jsonl(synthetic_set.manifest, rows)
    wall, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
    compute_log.append(
        synthetic_set.root,
        {"clips": sum(written.values()), "wall_seconds": wall, "cpu_seconds": cpu, "vocoder": cfg.vocoder},
    )
    return _result(run, rows, written, classes, real)


def _real_by_class(ws: Workspace, real: list[dict], classes: list[str]) -> dict[str, list[dict]]:
    """The real train cycles of each class; a class without any cannot be conditioned on."""
    by_class = {c: [r for r in real if r["label"] == c] for c in classes}
    for c, rows in by_class.items():
        if not rows:
            raise RespgenError(f"no real train cycles of class {c!r} to condition on", ws.manifest)
    return by_class


def _resumable_rows(cfg: SynthConfig, synthetic_set: SyntheticSet) -> list[SyntheticClip]:
    """The set's rows a resumed run keeps (those whose audio exists); refused when the set holds clips of
    another vocoder."""
    existing = synthetic_set.rows(require_audio=False)
    other = sorted({_kind(r) for r in existing} - {cfg.vocoder})
    if other:
        raise RespgenError(
            f"synthetic set {synthetic_set.name!r} holds {other[0]} clips, not {cfg.vocoder}: choose another --set",
            synthetic_set.manifest,
        )
    return existing


def _start_run(cfg: SynthConfig, ws: Workspace, synthetic_set: SyntheticSet) -> _Run:
    """The device, the chosen vocoder (`diffwave`: the latest checkpoint, guided by Griffin-Lim when
    `guide_strength` < 1), the clips' framing and how many are vocoded together."""
    device = new_accelerator(cpu=cfg.cpu).device
    if cfg.vocoder == "griffinlim":
        vocoder = griffinlim_revocoder(GriffinLimSettings(cfg.gl_iters, cfg.gl_momentum))
    elif cfg.vocoder == "augment":
        vocoder = augment_revocoder(cfg.aug_snr_db)
    else:
        guide = GriffinLimSettings(cfg.gl_iters, cfg.gl_momentum) if cfg.guide_strength < 1 else None
        vocoder = diffwave_revocoder(ws.vocoder, device, cfg.precision, cfg.steps, guide, cfg.guide_strength)
    framing = clip_framing(vocoder.params, cfg.length, cfg.trim)
    batch = vocoder.batch_size(cfg.batch_size, framing.frames, cfg.max_cache_gb * 2**30)
    return _Run(cfg, ws, synthetic_set, device, vocoder, framing, batch)


def _plan_clips(cfg: SynthConfig, classes: list[str], by_class: dict[str, list[dict]], done: set[str]) -> list[_Clip]:
    """The clips still to make, class by class: the first `cfg.n` of each class not in `done` (with --vary,
    each with its variation drawn from its seed, mixed only with another real cycle of its own class)."""
    strength = VaryStrength(cfg.vary_stretch, cfg.vary_shift, cfg.vary_mix, cfg.vary_gain_db)
    todo = []
    for c in classes:
        real_by_id = {r["id"]: r for r in by_class[c]}
        for k in range(cfg.n):
            cid = f"{c}_{k:05d}"
            if cid in done:
                continue
            src = conditioning_order(list(real_by_id), k, cfg.seed, c, cfg.conditioning)
            if not cfg.vary:
                todo.append(_Clip(c, k, cid, real_by_id[src]))
                continue
            draw = draw_variation(strength, clip_seed(cfg.seed, c, k), [i for i in real_by_id if i != src])
            partner = real_by_id[draw.mixed_with] if draw.mixed_with else None
            todo.append(_Clip(c, k, cid, real_by_id[src], draw, partner))
    return todo


def _make_clips(run: _Run, clips: list[_Clip]) -> list[SyntheticClip]:
    """Vocode one batch of clips; write their audio; return their manifest rows."""
    audio, other_seed = _vocode(run, clips)
    return [_write_clip(run, clip, wave, other_seed.get(j)) for j, (clip, wave) in enumerate(zip(clips, audio))]


def _vocode(run: _Run, clips: list[_Clip]) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """The clips' audio, and the seed spread: a second synthesis of the clips with k < SPREAD_CLIPS with
    their `spread_seed`, in the same batches ({index in `clips`: its audio})."""
    seed, batch = run.cfg.seed, run.batch
    mels = _conditioning(run, clips)
    gens = [torch.Generator().manual_seed(clip_seed(seed, clip.label, clip.k)) for clip in clips]
    spread = [j for j, clip in enumerate(clips) if clip.k < SPREAD_CLIPS]
    mels = torch.cat([mels, mels[spread]])
    gens += [torch.Generator().manual_seed(spread_seed(seed, clips[j].label, clips[j].k)) for j in spread]
    audio = torch.cat(
        [run.vocoder.vocode(mels[b : b + batch], gens[b : b + batch]) for b in range(0, len(gens), batch)]
    )
    return audio[: len(clips)], dict(zip(spread, audio[len(clips) :]))


def _conditioning(run: _Run, clips: list[_Clip]) -> torch.Tensor:
    """What the vocoder is given (on the device): the clips' conditioning mels [B, n_mels, frames] (varied
    with --vary), or, for a vocoder that takes audio (augment), their real cycles' waveforms [B, n_samples]
    repeat-padded or cut to the clip's length."""
    if run.vocoder.takes == "audio":
        waves = [_fitted(run, clip.source, run.framing.n_samples) for clip in clips]
        return torch.stack(waves).to(run.device)
    return torch.stack([_clip_mel(run, clip) for clip in clips]).to(run.device)


def _fitted(run: _Run, source: dict, n_samples: int) -> torch.Tensor:
    """The real cycle `source` repeat-padded (its last --fade-out samples faded out) or cut to `n_samples`."""
    audio = load_clip(run.ws.manifest, source, run.vocoder.params.sample_rate)
    return fit_length(audio, n_samples, "repeat", run.cfg.fade_out)


def _source_mel(run: _Run, source: dict) -> torch.Tensor:
    """The vocoder mel [n_mels, frames] of the real cycle `source`, fitted to the conditioning length."""
    params, framing = run.vocoder.params, run.framing
    return vocoder_mel(_fitted(run, source, framing.cond_samples), **params.mel_kwargs())[:, : framing.frames]


def _clip_mel(run: _Run, clip: _Clip) -> torch.Tensor:
    """The clip's conditioning mel: its source's, varied (and mixed with its partner's) with --vary."""
    mel = _source_mel(run, clip.source)
    if clip.vary is None:
        return mel
    other = _source_mel(run, clip.partner) if clip.partner is not None else None
    return vary_mel(mel, clip.vary, other)


def _write_clip(run: _Run, clip: _Clip, wave: torch.Tensor, other_seed: torch.Tensor | None) -> SyntheticClip:
    """Write the clip's audio; its row, with its fidelity to its conditioning cycle (and, in the seed
    spread, the mel L1 to its `other_seed` synthesis)."""
    cfg, params, n_samples = run.cfg, run.vocoder.params, run.framing.n_samples
    wave = wave[:n_samples]
    write_wav(run.synthetic_set.root / clip.label / f"{clip.id}.wav", wave, params.sample_rate)
    real_audio = load_clip(run.ws.manifest, clip.source, params.sample_rate)
    fid = clip_fidelity(wave, real_audio, clip.id, **params.mel_kwargs())
    if other_seed is not None:
        fid["mel_l1_other_seed"] = round(mel_l1(wave, other_seed[:n_samples], **params.mel_kwargs()), 6)
    return SyntheticClip(
        id=clip.id,
        path=f"{clip.label}/{clip.id}.wav",
        label=clip.label,
        split="train",
        source="synthetic",
        conditioned_on=clip.source["id"],
        patient=clip.source["patient"],
        vocoder=run.vocoder.provenance,
        seed=clip_seed(cfg.seed, clip.label, clip.k),
        **({"steps": cfg.steps} if cfg.vocoder == "diffwave" else {}),
        sample_rate=params.sample_rate,
        duration=n_samples / params.sample_rate,
        **fid,
        **_variation(run, clip),
    )


def _variation(run: _Run, clip: _Clip) -> dict:
    """The row's record of how the clip departs from its source: with --vary, `vary` (the drawn changes) and
    `mixed_with` (the second cycle, when mixed); with augment, `augment` (the drawn transform parameters)."""
    out: dict = {}
    if clip.vary is not None:
        if clip.vary.mixed_with:
            out["mixed_with"] = clip.vary.mixed_with
        out["vary"] = clip.vary.as_dict()
    if run.cfg.vocoder == "augment":
        seed = clip_seed(run.cfg.seed, clip.label, clip.k)
        out["augment"] = draw_augment(seed, run.cfg.aug_snr_db).as_dict()
    return out


def _result(
    run: _Run, rows: list[SyntheticClip], written: dict[str, int], classes: list[str], real: list[dict]
) -> SynthResult:
    """The run's summary: clips written and now listed per class, and the classes' fidelity over all their rows."""
    synthetic_set = run.synthetic_set
    total = {c: sum(1 for r in rows if r["label"] == c) for c in classes}
    mine = [r for r in rows if r["label"] in classes]
    real_by_id = {r["id"]: r for r in real}
    fidelity = class_summary(rows_fidelity(synthetic_set.manifest, mine, run.ws.manifest, real_by_id), classes)
    return SynthResult(
        manifest=str(synthetic_set.manifest),
        set=synthetic_set.name,
        written=written,
        total=total,
        vocoder=run.vocoder.provenance,
        fidelity=fidelity,
    )
