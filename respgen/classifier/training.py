"""Fine-tuning one AST: the epoch loop with checkpoint selection (`EpochSelection`: val / test / last),
one `train_step` on CE(class) + alpha * the alignment term (classifier.alignment), `predict_probabilities`
on an eval split and its `split_scores`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader

from respgen.classifier.alignment import Alignment
from respgen.classifier.dataset import Features, RunData, TrainRows
from respgen.classifier.metrics import confusion_matrix, icbhi_scores
from respgen.classifier.model import AFTClassifier
from respgen.classifier.paired_alignment import PairedMahalanobis
from respgen.classifier.schedule import make_scheduler, start_epoch
from respgen.classifier.specaugment import augment
from respgen.errors import RespgenError


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    ma_beta: float  # the paper's weight averaging with the previous step (0: off)
    specaug: float
    class_weights: bool
    specaug_mode: str = "clip"  # clip | batch (the reference: one mask set per batch)
    lr_schedule: str = "step"  # step | epoch (the reference: cosine set per epoch)
    lr_min_factor: float = 0.0  # the cosine ends at lr * this
    min_se: float | None = None  # select only epochs with Se above this (the reference: 0.05)
    alignment: Alignment | None = None  # AFT; None: plain CE


class TrainingDiverged(RespgenError):
    """The loss became NaN or infinite: the run stops and nothing is saved."""

    exit_code = 3


@dataclass
class EpochSelection:
    """Which epoch's weights a run keeps: the best `select_on` Score among the eligible epochs (those
    meeting `min_se` first; `first_eligible`: no model from before the alignment loss is at full weight),
    or simply the last epoch."""

    select_on: str
    min_se: float | None = None
    first_eligible: int = 1
    epoch: int | None = None
    score: float | None = None
    met_min_se: bool = False
    state: dict | None = None
    predictions: dict | None = None  # {split: [N, classes] probabilities} of the kept epoch

    def consider(self, entry: dict, model: torch.nn.Module, predictions: dict | None = None) -> None:
        """Keep `model`'s weights (and its eval `predictions`) if the epoch of `entry` (its history row)
        beats the one kept so far."""
        split = entry.get(self.select_on) if self.select_on in ("val", "test") else None
        score = None if split is None else split["score"]
        ok = score is not None and (self.min_se is None or split["se"] > self.min_se)
        if self.select_on != "last":
            if entry["epoch"] < self.first_eligible:
                return
            if self.epoch is not None and not (ok and (not self.met_min_se or score > self.score)):
                return
        self.epoch, self.score, self.met_min_se = entry["epoch"], score, ok
        self.state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        self.predictions = predictions


def train_classifier(
    model: AFTClassifier,
    data: RunData,
    s: TrainSettings,
    seed: int,
    select_on: str,
    accelerator: Accelerator,
    progress: Callable[..., None] | None = None,
) -> dict:
    """Train `model` in place and leave it holding the selected epoch's weights (unwrapped, on its
    device). Returns the seed's metrics: the selected epoch's eval splits plus the per-epoch history,
    and under `predictions` that epoch's class probabilities per eval split ({split: [N, classes]}, rows
    in `data.evals` order; not part of the record: the caller saves them beside it). Raises
    `TrainingDiverged` when the loss is not finite."""
    loop = _prepare(model, data, s, seed, accelerator)
    align = s.alignment
    history = []
    selection = EpochSelection(select_on, s.min_se, align.first_selectable_epoch(s.epochs) if align is not None else 1)
    for epoch in range(s.epochs):
        entry = _train_epoch(loop, epoch)
        unwrapped = accelerator.unwrap_model(loop.wrapped)
        probabilities = _evaluate(unwrapped, data, s.batch_size * 2, accelerator, entry)
        history.append(entry)
        selection.consider(entry, unwrapped, probabilities)
        if progress:
            _report_progress(progress, entry, s.epochs)
    accelerator.unwrap_model(loop.wrapped).load_state_dict(selection.state)
    return _metrics(selection, history, data, seed)


@dataclass
class _Loop:
    """What every step of one run shares: the prepared model, optimiser, loader and scheduler, and the
    fixed inputs of `train_step`."""

    wrapped: torch.nn.Module
    optimizer: torch.optim.Optimizer
    loader: DataLoader
    scheduler: object
    accelerator: Accelerator
    s: TrainSettings
    features: Features  # the train features (the paired loss reads the synthetic cycles' sources from them)
    iters: int  # steps per epoch, before `accelerator.prepare`
    weight: torch.Tensor | None  # the class weights of the CE (None: unweighted)
    paired_loss: PairedMahalanobis | None
    aug_gen: torch.Generator


def _prepare(model: AFTClassifier, data: RunData, s: TrainSettings, seed: int, accelerator: Accelerator) -> _Loop:
    """The seeded train loader, the optimiser, its schedule and the class weights, prepared by `accelerator`."""
    features, labels, domains = data.train
    sources = data.sources if data.sources is not None else torch.full_like(labels, -1)
    loader = DataLoader(
        TrainRows(features, labels, domains, sources),
        batch_size=s.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        drop_last=len(labels) > s.batch_size,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    iters = len(loader)
    scheduler = make_scheduler(optimizer, s.lr_schedule, s.epochs, iters, s.lr_min_factor)
    weight = None
    if s.class_weights:
        counts = torch.bincount(labels, minlength=len(data.classes)).float().clamp(min=1)
        weight = (counts.sum() / (len(counts) * counts)).to(accelerator.device)
    wrapped, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    aug_gen = torch.Generator().manual_seed(seed + 1)
    paired_loss = PairedMahalanobis() if s.alignment is not None and s.alignment.paired else None
    return _Loop(wrapped, optimizer, loader, scheduler, accelerator, s, features, iters, weight, paired_loss, aug_gen)


def _train_epoch(loop: _Loop, epoch: int) -> dict:
    """One pass over the train rows (`epoch` 0-based). Returns the epoch's history row: its mean loss,
    learning rate and (with a discriminator) the discriminator's accuracy."""
    s, align = loop.s, loop.s.alignment
    loop.wrapped.train()
    start_epoch(loop.scheduler, epoch + 1)
    totals = {"loss": 0.0, "disc_correct": 0, "n": 0}
    for it, (x, y, d, src) in enumerate(loop.loader):
        strength = align.strength(it, epoch, loop.iters, s.epochs) if align is not None else 0.0
        x = augment(x, s.specaug, s.specaug_mode, loop.aug_gen)
        loss, domain = train_step(
            loop.wrapped,
            loop.optimizer,
            loop.scheduler,
            loop.accelerator,
            x,
            y,
            d,
            s,
            strength,
            loop.weight,
            loop.paired_loss,
            _paired_sources(loop, x, src),
        )
        if not torch.isfinite(loss.detach()).all():
            raise TrainingDiverged(
                f"training diverged: the loss is {float(loss):g} at epoch {epoch + 1}, step {it + 1}; "
                "nothing was saved (lower --lr, or check the data)"
            )
        totals["loss"] += float(loss.detach()) * len(y)
        totals["n"] += len(y)
        if domain is not None:
            totals["disc_correct"] += int((domain.argmax(-1) == d).sum())
    entry = {"epoch": epoch + 1, "loss": totals["loss"] / max(1, totals["n"]), "lr": loop.scheduler.get_last_lr()[0]}
    if align is not None and align.uses_discriminator:
        entry["disc_acc"] = totals["disc_correct"] / max(1, totals["n"])
    return entry


def _paired_sources(loop: _Loop, x: torch.Tensor, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The paired loss's `sources` of a batch: the augmented fbank of the real sources of its synthetic
    cycles and the mask of the rows that have one (None without the paired loss)."""
    if loop.paired_loss is None:
        return None
    has = src >= 0
    return augment(loop.features[src[has].cpu()].to(x.device), loop.s.specaug, loop.s.specaug_mode, loop.aug_gen), has


def _evaluate(
    model: AFTClassifier, data: RunData, batch_size: int, accelerator: Accelerator, entry: dict
) -> dict[str, torch.Tensor]:
    """Each eval split's class probabilities under `model`; the split's scores go into the epoch's `entry`."""
    probabilities = {}
    for split, (fx, fy) in data.evals.items():
        probabilities[split] = predict_probabilities(model, fx, batch_size, accelerator)
        entry[split] = split_scores(probabilities[split], fy, data.classes)
    return probabilities


def _report_progress(progress: Callable[..., None], entry: dict, epochs: int) -> None:
    """Show an epoch's loss and its val (else test) scores."""
    shown = entry.get("val") or entry.get("test") or {}
    progress(
        entry["epoch"],
        epochs,
        loss=entry["loss"],
        sp=shown.get("sp", float("nan")),
        se=shown.get("se", float("nan")),
        score=shown.get("score", float("nan")),
    )


def _metrics(selection: EpochSelection, history: list[dict], data: RunData, seed: int) -> dict:
    """The seed's metrics (`train_classifier`'s return) for the epoch `selection` kept."""
    chosen = history[selection.epoch - 1]
    return {
        "selected_on": selection.select_on,
        "best_epoch": selection.epoch,
        **(
            {"min_se": selection.min_se, "min_se_met": selection.met_min_se}
            if selection.min_se is not None and selection.select_on != "last"
            else {}
        ),
        "classes": list(data.classes),
        **{split: chosen[split] for split in data.evals},
        "history": history,
        "seed": seed,
        "predictions": selection.predictions or {},
    }


def train_step(
    model,
    optimizer,
    scheduler,
    accelerator: Accelerator,
    x: torch.Tensor,
    y: torch.Tensor,
    d: torch.Tensor,
    s: TrainSettings,
    strength: float = 0.0,
    weight: torch.Tensor | None = None,
    paired_loss: PairedMahalanobis | None = None,
    sources: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One optimiser step on CE(class) (+ alpha * the alignment term under AFT). `strength`
    (`Alignment.strength`): grl's reversal strength, or paired's ramp weight. `sources` (paired): the
    fbank of the real sources of the batch's synthetic cycles and the mask of the rows that have one;
    they go through the same forward pass and enter only the paired loss. Returns (loss, the
    discriminator's logits or None)."""
    align = s.alignment
    prev = [p.detach().clone() for p in model.parameters()] if s.ma_beta > 0 else None
    domain = None
    with accelerator.autocast():
        if align is not None and align.paired and sources is not None:
            source_x, has = sources
            logits, _, pooled = model(torch.cat([x, source_x]), with_pooled=True)
            logits, own, source = logits[: len(y)], pooled[: len(y)], pooled[len(y) :]
            loss = F.cross_entropy(logits.float(), y, weight=weight)
            if bool(has.any()):  # (during the warm-up, strength 0, the call still updates the covariance)
                loss = loss + align.alpha * strength * paired_loss(own[has], source, pooled)
        else:
            logits, domain = model(x, strength)
            loss = F.cross_entropy(logits.float(), y, weight=weight)
            if align is not None and align.uses_discriminator:
                loss = loss + align.alpha * F.cross_entropy(domain.float(), d)
    accelerator.backward(loss)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    if prev is not None:  # the paper's ma_update: average with the previous step's weights
        with torch.no_grad():
            for p, q in zip(model.parameters(), prev):
                p.mul_(1 - s.ma_beta).add_(q, alpha=s.ma_beta)
    return loss, domain


@torch.no_grad()
def predict_probabilities(
    model: AFTClassifier, features: torch.Tensor, batch_size: int, accelerator: Accelerator | None = None
) -> torch.Tensor:
    """[N, classes] softmax probabilities of `model` on one split's features (on the CPU, fp32), in eval
    mode; the model's train/eval mode is restored."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(features), batch_size):
        x = features[i : i + batch_size].to(device)
        if accelerator is not None:
            with accelerator.autocast():
                logits, _ = model(x)
        else:
            logits, _ = model(x)
        out.append(torch.softmax(logits.float(), dim=-1).cpu())
    model.train(was_training)
    return torch.cat(out)


def split_scores(probabilities: torch.Tensor, labels: torch.Tensor, classes) -> dict:
    """Sp / Se / Score / accuracy / per-class accuracy / confusion of the most probable class."""
    cm = confusion_matrix(labels.numpy(), probabilities.argmax(-1).numpy(), len(classes))
    return icbhi_scores(cm, tuple(classes))
