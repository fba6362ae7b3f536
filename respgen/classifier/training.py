"""Fine-tuning one AST: the epoch loop (checkpoint selection on val / test / last), one `train_step`
on CE(class) + alpha * the adversary's term (classifier.adversary), `evaluate`, and the mean ± std
summary over seeds."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

from respgen.classifier.adversary import Adversary, AdversarySettings
from respgen.classifier.dataset import RunData
from respgen.classifier.grl import dann_lambda, paper_lambda
from respgen.classifier.metrics import confusion_matrix, icbhi_scores
from respgen.classifier.model import AFTClassifier
from respgen.classifier.paired_alignment import ramp_weight
from respgen.classifier.schedule import make_scheduler, start_epoch
from respgen.classifier.specaugment import augment

METRIC_KEYS = ("sp", "se", "score", "accuracy")


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    aft: bool
    alpha: float
    lambda_mode: str  # dann | paper
    ma_beta: float
    specaug: float
    class_weights: bool
    specaug_mode: str = "clip"  # clip | batch (the reference: one mask set per batch)
    lr_schedule: str = "step"  # step | epoch (the reference: cosine set per epoch)
    lr_min_factor: float = 0.0  # the cosine ends at lr * this
    min_se: float | None = None  # select only epochs with Se above this (the reference: 0.05)


def train_classifier(
    model: AFTClassifier,
    data: RunData,
    s: TrainSettings,
    seed: int,
    select_on: str,
    accelerator: Accelerator,
    progress: Callable[..., None] | None = None,
    adversary: AdversarySettings | None = None,
) -> dict:
    """Train `model` in place and leave it holding the selected epoch's weights (unwrapped, on its
    device). Returns the metrics: the selected epoch's eval splits plus the per-epoch history.
    `adversary` (AFT): how the discriminator is trained (default: the paper's joint GRL step)."""
    features, labels, domains = data.train
    sources = data.sources if data.sources is not None else torch.full_like(labels, -1)
    loader = DataLoader(
        TensorDataset(features, labels, domains, sources),
        batch_size=s.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        drop_last=len(labels) > s.batch_size,
    )
    adv = None
    if s.aft and adversary is not None and adversary.separate:  # the discriminator gets its own optimiser
        adv = Adversary(model.discriminator, adversary, s.lr, s.weight_decay)
    params = [p for n, p in model.named_parameters() if adv is None or not n.startswith("discriminator.")]
    optimizer = torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
    iters = len(loader)
    scheduler = make_scheduler(optimizer, s.lr_schedule, s.epochs, iters, s.lr_min_factor)
    weight = None
    if s.class_weights:
        counts = torch.bincount(labels, minlength=len(data.classes)).float().clamp(min=1)
        weight = (counts.sum() / (len(counts) * counts)).to(accelerator.device)
    wrapped, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    aug_gen = torch.Generator().manual_seed(seed + 1)
    history, best, best_state = [], None, None
    step = 0
    for epoch in range(s.epochs):
        wrapped.train()
        start_epoch(scheduler, epoch + 1)
        totals = {"loss": 0.0, "disc_correct": 0, "n": 0}
        for it, (x, y, d, src) in enumerate(loader):
            if s.lambda_mode == "paper":
                lam = paper_lambda(it, epoch + 1, iters, s.epochs)  # the reference counts epochs from 1
            else:
                lam = dann_lambda(step / max(1, s.epochs * iters))
            x = augment(x, s.specaug, s.specaug_mode, aug_gen)
            paired = None
            if adv is not None and adv.settings.paired:  # the real sources of the batch's synthetic cycles
                lam = ramp_weight(step / max(1, s.epochs * iters), adv.settings.warmup, adv.settings.ramp)
                has = src >= 0
                source_x = features[src[has].cpu()].to(x.device)
                paired = (augment(source_x, s.specaug, s.specaug_mode, aug_gen), has)
            loss, domain = train_step(
                wrapped,
                optimizer,
                scheduler,
                accelerator,
                x,
                y,
                d,
                lam,
                alpha=s.alpha if s.aft else 0.0,
                weight=weight,
                ma_beta=s.ma_beta,
                adversary=adv,
                paired=paired,
            )
            step += 1
            totals["loss"] += float(loss.detach()) * len(y)
            totals["n"] += len(y)
            if domain is not None:
                totals["disc_correct"] += int((domain.argmax(-1) == d).sum())
        unwrapped = accelerator.unwrap_model(wrapped)
        entry = {"epoch": epoch + 1, "loss": totals["loss"] / max(1, totals["n"]), "lr": scheduler.get_last_lr()[0]}
        if s.aft:
            entry["disc_acc"] = totals["disc_correct"] / max(1, totals["n"])
        for split, (fx, fy) in data.evals.items():
            entry[split] = evaluate(unwrapped, fx, fy, data.classes, s.batch_size * 2, accelerator)
        history.append(entry)
        key = entry.get(select_on, {}).get("score") if select_on in ("val", "test") else None
        ok = key is not None and (s.min_se is None or entry[select_on]["se"] > s.min_se)
        # a paired-alignment run selects among the epochs with its loss at full weight (not before alignment)
        eligible = adv is None or epoch + 1 >= adv.settings.first_full_epoch(s.epochs)
        if select_on == "last" or (eligible and (best is None or (ok and (not best[2] or key > best[0])))):
            best = (key, epoch + 1, ok)
            best_state = {k: v.detach().cpu().clone() for k, v in unwrapped.state_dict().items()}
        if progress:
            shown = entry.get("val") or entry.get("test") or {}
            progress(
                epoch + 1,
                s.epochs,
                loss=entry["loss"],
                sp=shown.get("sp", float("nan")),
                se=shown.get("se", float("nan")),
                score=shown.get("score", float("nan")),
            )
    accelerator.unwrap_model(wrapped).load_state_dict(best_state)
    chosen = history[best[1] - 1]
    return {
        "selected_on": select_on,
        "best_epoch": best[1],
        **({"min_se": s.min_se, "min_se_met": best[2]} if s.min_se is not None and select_on != "last" else {}),
        "classes": list(data.classes),
        **{split: chosen[split] for split in data.evals},
        "history": history,
        "seed": seed,
    }


def train_step(
    model,
    optimizer,
    scheduler,
    accelerator: Accelerator,
    x,
    y,
    d,
    lam: float,
    alpha: float,
    weight: torch.Tensor | None = None,
    ma_beta: float = 0.0,
    adversary: Adversary | None = None,
    paired: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One optimiser step on CE(class) + alpha * CE(real/synthetic) (alpha 0: plain CE); with an
    `adversary` (classifier.adversary) its encoder term instead, then its discriminator steps.
    `paired` (mahalanobis): (features of the real sources, mask of the batch rows that have one); the
    sources go through the same forward pass and only enter the paired loss."""
    prev = [p.detach().clone() for p in model.parameters()] if ma_beta > 0 else None
    pooled = None
    with accelerator.autocast():
        if adversary is not None and alpha > 0 and paired is not None:
            source_x, has = paired
            logits, _, both = model(torch.cat([x, source_x]), lam, reverse=False, with_pooled=True)
            logits, pooled = logits[: len(y)], both[: len(y)]
            loss = F.cross_entropy(logits.float(), y, weight=weight)
            loss = loss + alpha * adversary.paired_term(pooled, both[len(y) :], has, lam)
        elif adversary is not None and alpha > 0:
            logits, domain, pooled = model(x, lam, reverse=adversary.reverse, with_pooled=True)
            loss = F.cross_entropy(logits.float(), y, weight=weight) + alpha * adversary.encoder_loss(domain, d, lam)
        else:
            logits, domain = model(x, lam)
            loss = F.cross_entropy(logits.float(), y, weight=weight)
            if alpha > 0:
                loss = loss + alpha * F.cross_entropy(domain.float(), d)
    accelerator.backward(loss)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    if prev is not None:  # the paper's ma_update: average with the previous step's weights
        with torch.no_grad():
            for p, q in zip(model.parameters(), prev):
                p.mul_(1 - ma_beta).add_(q, alpha=ma_beta)
    if pooled is not None:
        domain = adversary.update(pooled, d)
    return loss, domain


@torch.no_grad()
def evaluate(
    model: AFTClassifier, features: torch.Tensor, labels: torch.Tensor, classes, batch_size: int, accelerator=None
) -> dict:
    """Sp / Se / Score / accuracy / per-class accuracy / confusion of `model` on one split."""
    model.eval()
    device = next(model.parameters()).device
    preds = []
    for i in range(0, len(labels), batch_size):
        x = features[i : i + batch_size].to(device)
        if accelerator is not None:
            with accelerator.autocast():
                logits, _ = model(x)
        else:
            logits, _ = model(x)
        preds.append(logits.float().argmax(-1).cpu())
    model.train()
    cm = confusion_matrix(labels.numpy(), torch.cat(preds).numpy(), len(classes))
    return icbhi_scores(cm, tuple(classes))


def summarise(per_seed: dict[int, dict], select_on: str) -> dict:
    """mean ± std of every scalar metric over seeds."""
    out = {"selected_on": select_on, "seeds": list(per_seed), "per_seed": {}, "mean": {}, "std": {}}
    for seed, m in per_seed.items():
        out["per_seed"][seed] = {
            split: {k: m[split][k] for k in METRIC_KEYS} for split in ("val", "test") if split in m
        }
    for split in ("val", "test"):
        if all(split in m for m in per_seed.values()):
            for k in METRIC_KEYS:
                values = [m[split][k] for m in per_seed.values()]
                out["mean"].setdefault(split, {})[k] = float(np.mean(values))
                out["std"].setdefault(split, {})[k] = float(statistics.pstdev(values)) if len(values) > 1 else 0.0
    return out
