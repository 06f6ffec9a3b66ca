"""Power before running: exact power of the manipulation check's tests, checked against a seeded simulation of the
same tests, and `valind plan` warning where a study cannot see what it claims to measure."""

from __future__ import annotations

import numpy as np
import pytest

from valind.stats import power as P
from valind.stats.manipulation import sign_test_greater


def _simulated_power(n, p_ref, p_new, alpha, reps=4000, seed=0):
    rng = np.random.default_rng(seed)
    ref = rng.random((reps, n)) < p_ref
    new = rng.random((reps, n)) < p_new
    wins, losses = (new & ~ref).sum(1), (ref & ~new).sum(1)
    return float(np.mean([sign_test_greater(int(w), int(l)) <= alpha for w, l in zip(wins, losses)]))


@pytest.mark.parametrize("n,p_ref,p_new,alpha", [(60, 0.05, 0.25, 0.05), (100, 0.03, 0.13, 0.01), (30, 0.3, 0.5, 0.05)])
def test_exact_paired_power_matches_a_simulation_of_the_test(n, p_ref, p_new, alpha):
    assert P.power_paired_rates(n, p_ref, p_new, alpha) == pytest.approx(_simulated_power(n, p_ref, p_new, alpha), abs=0.03)


def test_power_against_chance_matches_a_simulation_and_the_worked_figures():
    rng = np.random.default_rng(1)
    wins = rng.binomial(45, 0.7, size=20000)
    simulated = np.mean([sign_test_greater(int(w), 45 - int(w)) <= 0.05 for w in wins])
    assert P.power_vs_chance(45, 0.7, 0.05) == pytest.approx(simulated, abs=0.02)
    # GUIDE 3c (normal approximation): ~29 pairs at 0.75, 47 at 0.70, 85 at 0.65; exact and saw-tooth-safe:
    assert 24 <= P.pairs_needed_for_accuracy(0.75, 0.05) <= 32
    assert 38 <= P.pairs_needed_for_accuracy(0.70, 0.05) <= 50
    assert P.detectable_accuracy(5, 0.05) > 0.9 and P.detectable_accuracy(5, 0.005) is None  # 5 pairs: hopeless
    assert P.detectable_accuracy(200, 0.05) < P.detectable_accuracy(50, 0.05) < P.detectable_accuracy(20, 0.05)
    assert P.power_vs_chance(0, 0.9, 0.05) == 0.0 and P.power_paired_rates(0, 0.1, 0.9, 0.05) == 0.0


def test_plan_warns_when_the_manipulation_check_cannot_see_induction(tmp_path, monkeypatch, capsys):
    from valind.cli import main

    monkeypatch.chdir(tmp_path)  # the README's command, as typed: the embedded default, no run yet
    assert main(["plan", "--summary"]) == 0
    out = capsys.readouterr().out
    assert "Power (80%, exact tests)" in out and "confirmatory" in out
    assert "cannot detect a held-out implicit-reward accuracy of 0.70 with 15 held-out pairs" in out
    assert "cannot detect +15 points of own-value expression" in out

    study = tmp_path / "big.yaml"
    study.write_text("name: big\nvalues: [honesty]\nsources: [{kind: generic, path: x.jsonl}]\n"
                     "curation: {value_suite_per_value: 150, value_suite_values: induced}\n"
                     "training: {reward_check_pairs: 120, seeds: [0, 1]}\n"
                     "evaluation: {suites: [{name: value_prompts, options: {source: heldout}}]}\n")
    assert main(["plan", str(study), "--summary"]) == 0
    out = capsys.readouterr().out
    assert "honesty: held-out implicit-reward accuracy vs chance" in out
    assert "WARNING: honesty" not in out  # 120 pairs and 150 prompts can see 0.70 and +15 points
    assert "WARNING: 2 seeds: " in out  # two seeds cost the exploratory tests power
