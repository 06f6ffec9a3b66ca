"""`valind extract validate`: AP and F1 checked against values worked out by hand, calibration, the shipped gold set."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import yaml

from valind.cli import main as cli
from valind.errors import InputError
from valind.instruments.values.base import make_extractor
from valind.calibration.values.validate import (
    DEFAULT_GOLD, average_precision, best_f1_threshold, calibration_split, load_gold,
    precision_recall_f1, validate,
)
from valind.values import STUDY_VALUES, builtin_values

from tests.conftest import register_fixed_scores

register_fixed_scores()  # the `test-fixed` extractor

VALUES = list(builtin_values().values())


def test_average_precision_by_hand():
    # ranks: pos (P=1/1), neg, pos (P=2/3), neg -> AP = (1 + 2/3) / 2
    assert average_precision(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1])) == pytest.approx(5 / 6)
    # one tie group holding both items: a single cut with precision 1/2 and full recall
    assert average_precision(np.array([1, 0]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert average_precision(np.array([0, 1]), np.array([0.9, 0.1])) == pytest.approx(0.5)
    assert np.isnan(average_precision(np.array([0, 0]), np.array([0.2, 0.3])))
    import sklearn.metrics as sklearn

    rng = np.random.default_rng(1)
    y, s = rng.integers(0, 2, 200), rng.integers(0, 10, 200) / 10  # many ties
    assert average_precision(y, s) == pytest.approx(sklearn.average_precision_score(y, s))


def test_f1_and_best_threshold_by_hand():
    y = np.array([1, 1, 0, 0])
    assert precision_recall_f1(y, np.array([1, 0, 1, 0])) == (0.5, 0.5, 0.5)
    # scores 0.9, 0.6 positive, 0.4, 0.2 negative: any cut in (0.4, 0.6] is perfect; midpoint 0.5
    assert best_f1_threshold(y, np.array([0.9, 0.6, 0.4, 0.2]), 0.3) == pytest.approx(0.5)
    assert best_f1_threshold(np.zeros(3), np.array([0.1, 0.2, 0.3]), 0.77) == 0.77  # no positives: keep


def _tiny_gold(tmp_path):
    rows = [("e1", 0.9, ["empathy"]), ("e2", 0.8, []), ("e3", 0.7, ["empathy"]), ("e4", 0.1, [])]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps({"id": i, "prompt": "p", "response": f"score={s}", "values": v}) + "\n"
                            for i, s, v in rows))
    return path


def test_validate_command_figures_on_tiny_gold(tmp_path, capsys):
    out = tmp_path / "fig.json"
    assert cli(["extract", "validate", str(_tiny_gold(tmp_path)), "--extractor", "test-fixed", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    emp = next(r for r in result["per_value"] if r["value"] == "empathy")
    assert emp["ap"] == pytest.approx(5 / 6) and emp["random_ap"] == 0.5 and emp["positives"] == 2
    # default threshold 0.5 lets in 0.9, 0.8, 0.7: P = 2/3, R = 1, F1 = 0.8
    assert emp["precision"] == pytest.approx(2 / 3) and emp["recall"] == 1.0 and emp["f1"] == pytest.approx(0.8)
    assert result["macro"]["values_with_positives"] == 1 and result["macro"]["ap"] == pytest.approx(5 / 6)
    printed = capsys.readouterr().out
    assert "empathy" in printed and "0.833" in printed and "macro" in printed


def test_calibrate_writes_thresholds_the_extractor_loads(tmp_path):
    gold = tmp_path / "gold.jsonl"
    rows = [{"id": str(i), "response": f"score={s}", "values": ["empathy"] if s > 0.45 else []}
            for i, s in enumerate(np.linspace(0.0, 1.0, 40).round(3))]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows))
    th_file = tmp_path / "th.yaml"
    ex = make_extractor("test-fixed", VALUES)
    result = validate(ex, load_gold(gold, STUDY_VALUES), calibrate=th_file, split=0.5)
    assert result["calibrated_on"] == 20 and result["evaluated_on"] == 20
    fitted = yaml.safe_load(th_file.read_text())["thresholds"]["empathy"]
    assert 0.4 < fitted < 0.5  # between the largest negative (<= 0.45) and the smallest positive seen
    emp = next(r for r in result["per_value"] if r["value"] == "empathy")
    assert emp["f1"] == 1.0 and emp["threshold"] == fitted
    assert make_extractor("test-fixed", VALUES, str(th_file)).thresholds["empathy"] == fitted
    cal, held = calibration_split(40, 0.5)
    assert set(cal).isdisjoint(held) and len(cal) + len(held) == 40
    assert (calibration_split(40, 0.5)[0] == cal).all()  # seeded


@pytest.mark.parametrize("line,field", [
    ('{"response": "x", "values": ["empathy"]', None),
    ('{"values": ["empathy"]}', "response"),
    ('{"response": 3, "values": []}', "response"),
    ('{"response": "x", "values": ["kindness"]}', "values"),
    ('{"response": "x", "values": "empathy"}', "values"),
])
def test_bad_gold_rows_name_file_row_field(tmp_path, line, field):
    path = tmp_path / "g.jsonl"
    path.write_text('{"response": "fine", "values": []}\n' + line + "\n")
    with pytest.raises(InputError) as err:
        load_gold(path, STUDY_VALUES)
    assert err.value.row == 2 and err.value.field == field and str(path) in str(err.value)


def test_shipped_gold_set_covers_the_issue():
    gold = load_gold(DEFAULT_GOLD, STUDY_VALUES)
    assert len(gold) >= 300 and len({g["id"] for g in gold}) == len(gold)
    per_value = Counter(v for g in gold for v in g["values"])
    assert set(per_value) == set(STUDY_VALUES) and min(per_value.values()) >= 10
    kinds = Counter(g["kind"] for g in gold)
    assert kinds["none"] >= 30 and kinds["hard_negative"] >= 30 and kinds["context"] >= 15
    assert sum(1 for g in gold if not g["values"]) >= 80
