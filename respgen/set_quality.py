"""A synthetic set's measured quality, typed: per class its fidelity, realism and diversity (as
`respgen.synthetic_quality.set_quality` measures them and `cache/quality/<set>.json` keeps them), and
the one per-class table every view shows (compare and synth in the terminal, the quickstart's summary,
the report). Torch-free, so the command line's renderer can read it.

`realism.logmel` is the two-sample accuracy on statistics of the vocoder's log-mel (`realism.logmel_stats`),
not on the classifier's fbank."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from respgen.noise_like import is_noise_like


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ClassFidelity(_Part):
    """Log-mel L1 of the class's synthetic cycles to their sources, beside the noise and real-vs-real
    baselines, and the share a real-only classifier labels as the class (None where not measured)."""

    n: int = 0
    mel_l1: float | None = None
    mel_l1_noise: float | None = None
    mel_l1_real: float | None = None
    label_agreement: float | None = None

    @property
    def noise_like(self) -> bool:
        return is_noise_like(self.model_dump())


class ClassRealism(_Part):
    """Two-sample accuracy, synthetic vs held-out real cycles (50% = indistinguishable), on the real-only
    model's pooled features (`model`) and on log-mel statistics (`logmel`); None with fewer than 4 a side."""

    model: float | None = None
    logmel: float | None = None
    n_synthetic: int = 0
    n_real: int = 0
    real_from: str = ""


class ClassDiversity(_Part):
    """Distance to the sources as a share of the real-vs-real distance (`copy_ratio`), the spread between
    two seeds, and the near-copy verdict (`respgen.diversity`)."""

    n: int = 0
    mel_l1: float | None = None
    real_vs_real: float | None = None
    copy_ratio: float | None = None
    seed_spread: float | None = None
    seed_spread_ratio: float | None = None
    near_copy: bool = False


@dataclass(frozen=True)
class QualityRow:
    """One class's line of the quality table, the three parts joined."""

    label: str
    n: int
    mel_l1: float | None
    mel_l1_noise: float | None
    mel_l1_real: float | None
    label_agreement: float | None
    realism_model: float | None
    realism_logmel: float | None
    copy_ratio: float | None


QUALITY_COLUMNS = (
    "class",
    "n",
    "mel L1",
    "noise",
    "real-vs-real",
    "label agreement",
    "realism (model)",
    "realism (log-mel)",
    "copy ratio",
)


def _number(x: float | None, digits: int) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _share(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


class SetQuality(_Part):
    """Every class of one set with synthetic cycles: `fidelity`, `realism`, `diversity`, by class."""

    fidelity: dict[str, ClassFidelity] = {}
    realism: dict[str, ClassRealism] = {}
    diversity: dict[str, ClassDiversity] = {}

    def rows(self) -> list[QualityRow]:
        """The table's rows, one per class in `fidelity`'s order (a part not measured for it: None)."""
        out = []
        for c, f in self.fidelity.items():
            r, d = self.realism.get(c, ClassRealism()), self.diversity.get(c, ClassDiversity())
            out.append(
                QualityRow(
                    c, f.n, f.mel_l1, f.mel_l1_noise, f.mel_l1_real, f.label_agreement, r.model, r.logmel, d.copy_ratio
                )
            )
        return out

    def table(self) -> tuple[list[str], list[list[str]]]:
        """(header, cells): the quality table as every view shows it, one row per class ("–": not measured)."""
        cells = [
            [
                r.label,
                str(r.n),
                _number(r.mel_l1, 3),
                _number(r.mel_l1_noise, 3),
                _number(r.mel_l1_real, 3),
                _share(r.label_agreement),
                _share(r.realism_model),
                _share(r.realism_logmel),
                _number(r.copy_ratio, 2),
            ]
            for r in self.rows()
        ]
        return list(QUALITY_COLUMNS), cells

    def noise_like(self) -> list[str]:
        """The classes whose cycles are noise-like (`respgen.noise_like`)."""
        return [c for c, f in self.fidelity.items() if f.noise_like]

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")
