"""The validity of the run's instruments as the report shows it, from RUN_DIR/validation/{extractor,judges}.json.

One row per (instrument, labelled set, way of measuring): out-of-sample figures first (grouped
cross-validation, transfer to a set or model left out, or a direct measure of an instrument that fits
nothing), then any in-sample figure, marked IN-SAMPLE so it is never read as agreement on new text.
Instruments with no figure at all (nothing labelled, or not measurable here) are named in one line.
"""

from __future__ import annotations

import math

IN_SAMPLE = "IN-SAMPLE (fitted on these rows)"


def _f(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def is_run_validation(obj) -> bool:
    """True for the files the run's validation stage writes (they carry `instruments_version`)."""
    return isinstance(obj, dict) and "instruments_version" in obj


def extractor_rows(ex: dict) -> list[list[str]]:
    name = f"extractor `{ex.get('extractor', '?')}`"
    rows = []
    if "not_measured" in ex:
        return rows
    sets = dict(ex.get("labelled_sets") or {})
    for set_name, fig in sets.items():
        if "not_measured" in fig:
            continue
        ref = _f(fig.get("macro_random_ap"))
        for key, how in (("cross_validated", None), ("transfer", None)):
            if key in fig:
                rows.append([name, set_name, fig[key].get("how", key), "macro AP", _f(fig[key].get("macro_ap")), ref])
        rows.append([name, set_name, IN_SAMPLE if fig.get("in_sample") else "direct (nothing fitted on this set)",
                     "macro AP", _f(fig.get("macro_ap")), ref])
    macro = ex.get("macro") or {}
    for key in ("cross_validated", "transfer"):
        if isinstance(ex.get(key), dict) and "macro_ap" in ex[key]:
            rows.append([name, "in-house (gold)", ex[key].get("how", key), "macro AP", _f(ex[key]["macro_ap"]),
                         _f(ex[key].get("macro_random_ap"))])
    if macro:
        rows.append([name, "in-house (gold)", "IN-SAMPLE (written in-house)" if ex.get("in_sample") else "direct",
                     "macro AP", _f(macro.get("ap")), _f(macro.get("random_ap"))])
    return rows


def _agreement(fig: dict) -> tuple[str, str]:
    return _f((fig.get("refused") or {}).get("accuracy")), _f((fig.get("refused") or {}).get("kappa"))


def judge_rows(key: str, j: dict) -> list[list[str]]:
    name = f"judge {key}"
    rows = []
    if "not_measured" in j:
        return rows
    if j.get("task") == "refusal":
        labels = j.get("labels", "labelled completions")
        for k in ("cross_validated", "transfer"):
            if k in j:
                acc, kappa = _agreement(j[k])
                rows.append([name, labels, j[k].get("how", k), "refused accuracy / kappa", f"{acc} / {kappa}", ""])
        if "all" in j:
            acc, kappa = _agreement(j["all"])
            rows.append([name, labels, IN_SAMPLE if j.get("in_sample") else "direct (nothing fitted)",
                         "refused accuracy / kappa", f"{acc} / {kappa}", ""])
    elif j.get("task") == "anthro":
        od = j.get("outside_dev") or {}
        if "skipped" not in od:
            where = f"outside-labelled ({od.get('rows', '?')} responses)"
            if "cross_validated" in od:
                rows.append([name, where, od.get("how", "cross-validated"), "macro kappa",
                             _f(od["cross_validated"].get("macro_kappa")), ""])
            for split, fig in (od.get("transfer") or {}).items():
                if isinstance(fig, dict):
                    rows.append([name, where, f"leave one source out: {split}", "macro kappa",
                                 _f(fig.get("macro_kappa")), ""])
            if "all" in od:
                rows.append([name, where, od.get("how", "direct (nothing fitted)"), "macro kappa",
                             _f(od["all"].get("macro_kappa")), ""])
            if "in_sample_shipped" in od:
                rows.append([name, where, IN_SAMPLE, "macro kappa", _f(od["in_sample_shipped"].get("macro_kappa")), ""])
        ih = j.get("in_house_dev") or {}
        if "macro_kappa" in ih:
            rows.append([name, "in-house (written inside the project)", "development data, not an outside measure",
                         "macro kappa", _f(ih["macro_kappa"]), ""])
    return rows


def unvalidated(validation: dict) -> list[str]:
    """'instrument (why)' for each configured instrument with no out-of-sample figure at all."""
    out = []
    ex = validation.get("extractor")
    if is_run_validation(ex):
        if "not_measured" in ex:
            out.append(f"extractor `{ex.get('extractor')}` ({ex['not_measured']})")
        elif not any(not r[2].startswith("IN-SAMPLE") for r in extractor_rows(ex)):
            out.append(f"extractor `{ex.get('extractor')}` (in-sample figures only)")
    judges = validation.get("judges")
    if is_run_validation(judges):
        for key, j in (judges.get("judges") or {}).items():
            if "not_measured" in j:
                out.append(f"judge {key} ({j['not_measured']})")
            elif not any(not r[2].startswith(("IN-SAMPLE", "development data")) for r in judge_rows(key, j)):
                out.append(f"judge {key} (in-sample or in-house figures only)")
    return out


def validity_table(validation: dict) -> list[list[str]]:
    rows = []
    if is_run_validation(validation.get("extractor")):
        rows += extractor_rows(validation["extractor"])
    if is_run_validation(validation.get("judges")):
        for key, j in (validation["judges"].get("judges") or {}).items():
            rows += judge_rows(key, j)
    return rows



def direction_notes(stats) -> list[str]:
    """Lines on the curate stage's direction check (curate/stats.csv `in_less_safe_share`, `direction`): a harm
    value whose XOR subset is mostly carried by the safer reply is flagged WRONG WAY."""
    if stats is None or "direction" not in getattr(stats, "columns", ()):
        return []
    out = []
    for r in stats.to_dict("records"):
        share, n = r.get("in_less_safe_share"), r.get("safety_xor_pairs")
        if r.get("direction") == "WRONG WAY":
            out.append(f"Direction check: WRONG WAY for {r['value']}: only {share:.0%} of its {int(n)} XOR pairs from "
                       f"safety-ordered sources carry it in the less safe reply, so its adapter learns the value "
                       f"from the safer replies (the extractor may be tagging something else); curate/stats.csv.")
        elif r.get("direction") == "ok":
            out.append(f"Direction check: {r['value']} is in the less safe reply in {share:.0%} of its {int(n)} XOR "
                       f"pairs from safety-ordered sources.")
    return out
