"""respgen.data.splits.choose_val_patients: a patient-disjoint, class-stratified val set, or none."""

from __future__ import annotations

from collections import Counter

from respgen.data.splits import choose_val_patients

CLASSES = ("normal", "crackle", "wheeze", "both")


def patients(n: int) -> dict[str, Counter]:
    """n train patients with a spread of cycle counts; every class in most patients."""
    out = {}
    for i in range(n):
        out[str(101 + i)] = Counter({"normal": 6 + i % 5, "crackle": 3 + i % 3, "wheeze": 1 + i % 2, "both": i % 3})
    return out


def total(counts: dict[str, Counter], chosen) -> Counter:
    t = Counter()
    for p in chosen:
        t.update(counts[p])
    return t


def test_val_is_patient_disjoint_near_the_fraction_and_has_every_class():
    counts = patients(30)
    split = choose_val_patients(counts, 0.2, seed=0)
    assert split.patients and split.patients < set(counts)  # a proper subset: train keeps patients
    val, train = total(counts, split.patients), total(counts, set(counts) - split.patients)
    n_all = sum(total(counts, counts).values())
    assert 0.1 <= sum(val.values()) / n_all <= 0.3
    assert all(val[c] > 0 and train[c] > 0 for c in CLASSES)
    assert "patient-disjoint" in split.note and "seed 0" in split.note


def test_deterministic_per_seed():
    counts = patients(30)
    a = choose_val_patients(counts, 0.2, seed=0)
    assert choose_val_patients(counts, 0.2, seed=0).patients == a.patients
    others = {choose_val_patients(counts, 0.2, seed=s).patients for s in range(1, 6)}
    assert others != {a.patients}  # other seeds pick other patients


def test_fallback_when_impossible():
    # one wheeze patient: wheeze cannot be on both sides, so no val split at all
    counts = {"101": Counter(normal=10, wheeze=3), "102": Counter(normal=10), "103": Counter(normal=9)}
    split = choose_val_patients(counts, 0.3, seed=0)
    assert split.patients == frozenset() and "no val split" in split.note and "3 train patients" in split.note
    # too few patients to leave any in train
    assert choose_val_patients({"101": Counter(normal=5)}, 0.5, seed=0).patients == frozenset()


def test_fraction_zero_disables():
    split = choose_val_patients(patients(10), 0, seed=0)
    assert split.patients == frozenset() and "disabled" in split.note
