"""How AFT aligns real and synthetic features (classifier.alignment): the `Alignment` schedule, the paired
Mahalanobis loss (classifier.paired_alignment), the one training step of each method (the paper's
joint GRL step; the paired loss on the batch and its real sources) and the paired method's wiring
into finetune. Gradient reversal itself: test_grl.py."""

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from accelerate import Accelerator

from respgen.classifier.alignment import Alignment
from respgen.classifier.dataset import source_rows
from respgen.classifier.grl import dann_lambda, paper_lambda
from respgen.classifier.model import AFTClassifier
from respgen.classifier.paired_alignment import PairedMahalanobis, ramp_weight
from respgen.classifier.presets import PRESETS
from respgen.classifier.training import TrainSettings, train_step
from respgen.config import FinetuneConfig, resolve_finetune
from respgen.services.finetune import alignment_of, finetune

CLASSES = ("normal", "crackle", "wheeze", "both")
FAST = {"preset": "tiny", "epochs": 5, "length": 1.0}


# --- the schedule ---------------------------------------------------------------------------------


def test_grl_strength_follows_the_lambda_schedules():
    dann = Alignment("grl", 0.2)
    assert dann.uses_discriminator and not dann.paired
    assert dann.strength(0, 0, 10, 5) == 0.0
    assert dann.strength(5, 2, 10, 5) == pytest.approx(dann_lambda(25 / 50))
    assert dann.strength(9, 4, 10, 5) == pytest.approx(dann_lambda(49 / 50))
    paper = Alignment("grl", 0.2, lambda_mode="paper")
    assert paper.strength(0, 0, 191, 50) == 1.0  # the reference counts epochs from 1
    assert paper.strength(3, 2, 10, 5) == paper_lambda(3, 3, 10, 5)


def test_paired_strength_is_the_ramp_weight():
    paired = Alignment("paired", 0.1, warmup=0.2, ramp=0.2)
    assert paired.paired and not paired.uses_discriminator
    # 10 epochs of 10 iterations: progress = (epoch * 10 + iteration) / 100
    assert [paired.strength(i, e, 10, 10) for e, i in ((0, 0), (1, 9), (2, 0), (3, 0), (3, 5), (9, 9))] == (
        pytest.approx([0, 0, 0, 0.5, 0.75, 1])
    )
    assert [ramp_weight(p, 0.2, 0.2) for p in (0.0, 0.19, 0.3, 0.4, 0.9)] == pytest.approx([0, 0, 0.5, 1, 1])
    assert ramp_weight(0.5, 0.2, 0.0) == 1.0


def test_first_selectable_epoch():
    s = Alignment("paired", 0.1, warmup=0.2, ramp=0.2)
    assert s.first_selectable_epoch(40) == 16 and s.first_selectable_epoch(5) == 2 and s.first_selectable_epoch(2) == 1
    assert Alignment("paired", 0.1, warmup=0.6, ramp=0.39).first_selectable_epoch(3) == 3  # never past the last
    assert Alignment("grl", 0.2).first_selectable_epoch(40) == 1


def test_alignment_of_a_config():
    assert alignment_of(resolve_finetune(FinetuneConfig())) is None  # no --aft
    paired = alignment_of(resolve_finetune(FinetuneConfig(aft=True, align_warmup=0.1, align_ramp=0.3)))
    assert paired == Alignment("paired", 0.1, "dann", 0.1, 0.3)
    grl = alignment_of(resolve_finetune(FinetuneConfig(aft=True, adversary="grl", lambda_mode="paper")))
    assert grl == Alignment("grl", 0.2, "paper", 0.2, 0.2)


# --- the paired loss ------------------------------------------------------------------------------


def _features(n=64, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    scales = torch.linspace(0.1, 3.0, d)  # very different variance per direction
    return torch.randn(n, d, generator=g) * scales


def test_zero_for_identical_pairs_positive_for_a_shift():
    real = _features()
    assert float(PairedMahalanobis()(real.clone(), real)) == pytest.approx(0.0, abs=1e-10)
    shifted = real + torch.linspace(-1, 1, real.shape[1])
    assert float(PairedMahalanobis()(shifted, real)) > 0.1


def test_a_shift_along_a_low_variance_direction_costs_more():
    """The same Euclidean shift separates a linear probe far better along a low-variance direction:
    Mahalanobis sees that, a plain squared distance would not."""
    real = _features()
    low, high = torch.zeros(real.shape[1]), torch.zeros(real.shape[1])
    low[0], high[-1] = 0.3, 0.3  # direction 0 has std 0.1, the last std 3
    batch = torch.cat([real, real])
    along_low = float(PairedMahalanobis()(real + low, real, batch))
    along_high = float(PairedMahalanobis()(real + high, real, batch))
    assert along_low > 10 * along_high


def test_scale_invariant_and_descent_lowers_it():
    real = _features(seed=1)
    synthetic = real + torch.linspace(-0.5, 0.5, real.shape[1])  # (a constant shift is layer-normed away)
    assert float(PairedMahalanobis()(5 * synthetic, 5 * real)) == pytest.approx(
        float(PairedMahalanobis()(synthetic, real)), rel=1e-4
    )
    loss_fn = PairedMahalanobis(momentum=0.0)
    moved = synthetic.clone().requires_grad_(True)
    first = None
    for _ in range(20):
        loss = loss_fn(moved, real)
        first = float(loss.detach()) if first is None else first
        (grad,) = torch.autograd.grad(loss, moved)
        moved = (moved - 0.5 * grad / grad.norm()).detach().requires_grad_(True)
    assert first > 0.1 and float(loss_fn(moved, real).detach()) < 0.5 * first


def test_running_covariance_keeps_history_without_its_gradient():
    loss_fn = PairedMahalanobis(momentum=0.9)
    real = _features(seed=2)
    loss_fn(real + 0.1, real)
    assert loss_fn.covariance is not None and not loss_fn.covariance.requires_grad
    before = loss_fn.covariance.clone()
    loss_fn(3 * real + 0.1, 3 * real)  # layer norm: the same normalised features, so S barely moves
    torch.testing.assert_close(loss_fn.covariance, before, rtol=0.05, atol=1e-3)


def test_source_rows_point_at_the_real_train_cycle():
    real = [{"id": "a"}, {"id": "b"}]
    synthetic = [{"id": "s1", "conditioned_on": "b"}, {"id": "s2", "conditioned_on": "gone"}, {"id": "s3"}]
    assert source_rows(real, synthetic).tolist() == [-1, -1, 1, -1, -1]


# --- one training step ----------------------------------------------------------------------------


def _tiny(discriminator: bool, seed: int = 0) -> AFTClassifier:
    torch.manual_seed(seed)
    return AFTClassifier(PRESETS["tiny"].ast_config(98, CLASSES), discriminator=discriminator).eval()


def _settings(alignment: Alignment, ma_beta: float = 0.0) -> TrainSettings:
    return TrainSettings(
        epochs=1,
        batch_size=4,
        lr=0.1,
        weight_decay=0.0,
        ma_beta=ma_beta,
        specaug=0.0,
        class_weights=False,
        alignment=alignment,
    )


def _sgd(model: torch.nn.Module, lr: float = 0.1):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


@pytest.mark.parametrize("ma_beta", [0.0, 0.5])
def test_grl_joint_step_is_one_step_on_ce_plus_alpha_reversed_domain_ce(ma_beta):
    """The paper's step: one optimiser step on CE(class) + alpha * CE(real/synthetic); the discriminator
    descends the domain loss, the encoder ascends it scaled by the reversal strength, the class head
    sees only CE(class). With ma_beta the weights are then averaged with the previous step's."""
    model = _tiny(discriminator=True)
    g = torch.Generator().manual_seed(1)
    x, y, d = torch.randn(4, 98, 128, generator=g), torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 0, 1])
    alpha, lam, lr = 0.2, 0.37, 0.1
    names = [n for n, _ in model.named_parameters()]
    params = list(model.parameters())
    pooled = model.pooled(x)
    ce, domain_ce = F.cross_entropy(model.ast.classifier(pooled), y), F.cross_entropy(model.discriminator(pooled), d)
    g_ce = torch.autograd.grad(ce, params, retain_graph=True, allow_unused=True)
    g_dom = torch.autograd.grad(domain_ce, params, allow_unused=True)
    before = [p.detach().clone() for p in params]

    optimizer, scheduler = _sgd(model, lr)
    s = _settings(Alignment("grl", alpha), ma_beta)
    loss, domain = train_step(model, optimizer, scheduler, Accelerator(cpu=True), x, y, d, s, lam)
    assert float(loss.detach()) == pytest.approx(float((ce + alpha * domain_ce).detach()), rel=1e-6)
    assert domain is not None and domain.shape == (4, 2)
    for name, p, p0, gc, gd in zip(names, params, before, g_ce, g_dom):
        zero = torch.zeros_like(p0)
        gc, gd = zero if gc is None else gc, zero if gd is None else gd
        if name.startswith("discriminator."):
            expected = alpha * gd
        elif name.startswith("ast.classifier."):
            assert gd.abs().max() == 0
            expected = gc
        else:  # the encoder: the domain loss's gradient reversed and scaled by lambda
            expected = gc - alpha * lam * gd
        stepped = p0 - lr * expected
        torch.testing.assert_close(p.detach(), (1 - ma_beta) * stepped + ma_beta * p0, rtol=1e-4, atol=1e-6)
    encoder = names.index("ast.audio_spectrogram_transformer.embeddings.patch_embeddings.projection.weight")
    assert g_dom[encoder].abs().max() > 0  # (the check above is not vacuous)


def test_paired_step_adds_the_ramped_loss_of_the_batch_and_its_real_sources():
    """The batch and the real sources of its synthetic rows go through one forward pass; CE is on the
    batch only, the paired loss compares each synthetic row's feature with its source's, weighted by
    alpha * the ramp; during the warm-up (strength 0) the loss is CE alone but the covariance is kept."""
    model = _tiny(discriminator=False)
    g = torch.Generator().manual_seed(2)
    x, y, d = torch.randn(4, 98, 128, generator=g), torch.tensor([0, 1, 2, 3]), torch.tensor([0, 0, 1, 1])
    sources = torch.randn(2, 98, 128, generator=g), torch.tensor([False, False, True, True])
    s = _settings(Alignment("paired", 0.1))
    accelerator = Accelerator(cpu=True)

    def expected(reference: PairedMahalanobis) -> tuple[float, float]:
        with torch.no_grad():
            logits, _, pooled = model(torch.cat([x, sources[0]]), with_pooled=True)
            return float(F.cross_entropy(logits[:4], y)), float(reference(pooled[:4][sources[1]], pooled[4:], pooled))

    loss_fn, reference = PairedMahalanobis(), PairedMahalanobis()
    ce, _ = expected(reference)
    optimizer, scheduler = _sgd(model, lr=0.0)  # the weights stay: the next step sees the same features
    loss, domain = train_step(model, optimizer, scheduler, accelerator, x, y, d, s, 0.0, None, loss_fn, sources)
    assert domain is None and float(loss.detach()) == pytest.approx(ce, rel=1e-6)
    torch.testing.assert_close(loss_fn.covariance, reference.covariance)  # updated during the warm-up too
    ce, paired = expected(reference)
    assert paired > 0
    loss, _ = train_step(model, optimizer, scheduler, accelerator, x, y, d, s, 0.5, None, loss_fn, sources)
    assert float(loss.detach()) == pytest.approx(ce + 0.1 * 0.5 * paired, rel=1e-5)
    torch.testing.assert_close(loss_fn.covariance, reference.covariance)


# --- finetune -------------------------------------------------------------------------------------


def test_finetune_paired_default_and_missing_sources(cli, demo_synth: Path):
    cfg = FinetuneConfig(workdir=demo_synth, aft=True, name="paired", select_on="test", **FAST)
    assert cfg.alignment.adversary == "paired" and resolve_finetune(cfg).alignment.alpha == 0.1
    assert resolve_finetune(FinetuneConfig(workdir=demo_synth, adversary="grl")).alignment.alpha == 0.2
    result = finetune(cfg)
    run = Path(result.run_dir)
    info = json.loads((run / "respgen.json").read_text())
    assert info["training"]["alpha"] == 0.1 and info["training"]["adversary"] == "paired"
    assert not (run / "discriminator.safetensors").exists()  # paired trains no discriminator
    assert all("disc_acc" not in h for h in result.metrics["history"])
    # selected among the epochs with the loss at full weight (from epoch 2 of 5), on test
    assert result.metrics["selected_on"] == "test" and result.metrics["best_epoch"] >= 2
    assert 0.0 <= result.metrics["alignment"]["probe_acc"] <= 1.0
    # without a real source for any synthetic cycle: one line, exit 2, nothing written
    manifest = demo_synth / "synth" / "manifest.jsonl"
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    manifest.write_text("".join(json.dumps({**r, "conditioned_on": "elsewhere"}) + "\n" for r in rows))
    before = sorted(p.name for p in (demo_synth / "models").iterdir())
    r = cli("finetune", "--aft", "--workdir", demo_synth, "--preset", "tiny", "--epochs", "1", "--length", "1")
    assert r.exit_code == 2 and "--adversary paired needs synthetic cycles" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in (demo_synth / "models").iterdir()) == before
    r = cli("finetune", "--workdir", demo_synth, "--align-warmup", "0.6", "--align-ramp", "0.5")
    assert r.exit_code == 2 and "align_warmup + align_ramp" in r.stderr
