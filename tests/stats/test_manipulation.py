"""The manipulation check as its own confirmatory test: per-pair reward outcomes, exact one-sided tests, intervals
that stay honest at small n, Holm within the family only, and the line the report opens with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valind.stats.manipulation import holm, manipulation_check, sign_test_greater, verdicts
from valind.stats.paired import newcombe_paired_ci, wilson_ci


def test_intervals_are_never_zero_width_and_stay_on_the_scale():
    lo, hi = wilson_ci(2, 2)  # 2 of 2: not [1, 1]
    assert 0.3 < lo < 0.5 and hi == 1.0
    lo, hi = wilson_ci(0, 4)
    assert lo == 0.0 and 0.4 < hi < 0.5
    # two items, no answer changed: the difference is 0, but 2 items cannot show it is within +-0.02
    lo, hi = newcombe_paired_ci(np.array([1, 0]), np.array([1, 0]))
    assert lo < -0.3 and hi > 0.3 and -1.0 <= lo and hi <= 1.0
    # both 40, only the second (induced) 30, only the first (base) 2, neither 28: d = 0.28
    base = np.array([1] * 40 + [0] * 30 + [1] * 2 + [0] * 28)
    induced = np.array([1] * 40 + [1] * 30 + [0] * 2 + [0] * 28)
    lo, hi = newcombe_paired_ci(base, induced)
    assert 0.15 < lo < 0.28 < hi < 0.4


def test_exact_one_sided_sign_test_and_holm():
    assert sign_test_greater(8, 0) == pytest.approx(0.5 ** 8)
    assert sign_test_greater(0, 0) == 1.0 and sign_test_greater(3, 5) > 0.5
    # Holm: sorted p * (m - rank), running max, capped at 1; NaN ignored
    assert np.allclose(holm([0.01, 0.04, 0.03, np.nan]), [0.03, 0.06, 0.06, np.nan], equal_nan=True)


def _pairs(model, adapter, heldout, won, seed="0"):
    return [{"model": model, "adapter": adapter, "seed": seed, "heldout": heldout, "pair_id": f"{heldout}-{i}",
             "won": int(w), "margin": 0.1 if w else -0.1} for i, w in enumerate(won)]


def _expression(model, label, value, expressed, seed="0"):
    return [{"model": model, "induced_value": label, "seed": seed, "suite": "value_prompts", "item_id": f"q{i}",
             "metric": f"expresses:{value}", "value": float(e)} for i, e in enumerate(expressed)]


@pytest.fixture()
def check():
    rng = np.random.default_rng(0)
    n = 45
    control_a = (rng.random(n) < 0.5).astype(int)
    value_a = np.maximum(control_a, (rng.random(n) < 0.75).astype(int))  # wins every pair the control wins and more
    rows = (_pairs("m", "alpha", "alpha", value_a) + _pairs("m", "control", "alpha", control_a)
            + _pairs("m", "beta", "beta", (rng.random(n) < 0.5).astype(int))
            + _pairs("m", "control", "beta", (rng.random(n) < 0.5).astype(int))
            + _pairs("m", "alpha", "beta", np.ones(n)))  # another value's held-out set: not this family's business
    reward_pairs = pd.DataFrame(rows)
    ctrl_expr = np.zeros(100)
    ctrl_expr[:5] = 1
    alpha_expr = ctrl_expr.copy()
    alpha_expr[5:25] = 1  # +20 points on the same prompts
    results = pd.DataFrame(_expression("m", "alpha", "alpha", alpha_expr) + _expression("m", "control", "alpha", ctrl_expr)
                           + _expression("m", "beta", "beta", ctrl_expr) + _expression("m", "control", "beta", ctrl_expr))
    return manipulation_check(reward_pairs, results, ["alpha", "beta"])


def test_a_value_that_generalises_beyond_the_control_is_induced_and_one_at_chance_is_not(check):
    by = check.set_index(["value", "outcome"])
    a_chance, a_ctrl, a_expr = (by.loc[("alpha", o)] for o in ("reward_vs_chance", "reward_vs_control",
                                                                "expression_vs_control"))
    assert a_chance.n_units == 45 and a_chance.estimate > 0.7 and a_chance.ci_low > 0.5 and a_chance.significant
    assert a_ctrl.losses == 0 and a_ctrl.wins > 10 and a_ctrl.significant and a_ctrl.ci_low > 0
    assert a_expr.difference == pytest.approx(0.20) and a_expr.wins == 20 and a_expr.significant
    assert not by.loc[("beta", "reward_vs_control")].significant
    assert not by.loc[("beta", "expression_vs_control")].significant  # identical outputs: p = 1, CI around 0
    assert by.loc[("beta", "expression_vs_control")].ci_low < 0 < by.loc[("beta", "expression_vs_control")].ci_high
    # Holm across the family's 6 rows, nothing else: the smallest p is multiplied by 6
    assert check["p_adjusted"].min() == pytest.approx(min(1.0, 6 * check["p_value"].min()))
    lines = verdicts(check).set_index("value")
    assert lines.loc["alpha", "induced"] == "yes" and lines.loc["alpha", "expressed"] == "yes"
    assert lines.loc["beta", "induced"] == "not shown"
    assert "held-out implicit-reward accuracy" in lines.loc["alpha", "line"] and "+20 points" in lines.loc["alpha", "line"]


def test_seeds_are_averaged_per_pair_and_a_missing_control_is_said():
    won0 = [1] * 30 + [0] * 15
    won1 = [1] * 25 + [0] * 20
    rp = pd.DataFrame(_pairs("m", "alpha", "alpha", won0, "0") + _pairs("m", "alpha", "alpha", won1, "1"))
    check = manipulation_check(rp, None, ["alpha"])
    row = check.set_index("outcome").loc["reward_vs_chance"]
    assert row.n_seeds == 2 and row.n_units == 45 and row.wins == 25 and row.losses == 15  # 5 pairs split 1:1
    assert row.estimate == pytest.approx(55 / 90)
    assert list(check["outcome"]) == ["reward_vs_chance"]
    assert verdicts(check).loc[0, "induced"] in ("yes (no control to compare)", "not shown")


def test_the_report_opens_with_the_manipulation_check(tmp_path):
    from valind.report.build import build_report
    from valind.report.demo import build_demo_run

    run = build_demo_run(tmp_path / "demo", values=("empathy", "deception"), seeds=(0,), n_items=30, n_qa=20)
    out = build_report(run)
    check = pd.read_csv(run / "report" / "manipulation_check.csv")
    assert set(check["value"]) == {"empathy", "deception"}
    assert {"reward_vs_chance", "reward_vs_control"} <= set(check["outcome"])
    html = out["html"].read_text()
    assert html.index("Was each value induced?") < html.index('id="reading"')  # at the top
    summary = out["summary"].read_text()
    first_section = summary.split("## ")[1]
    assert first_section.startswith("Was each value induced?") and "**empathy**" in first_section
