"""The instruments' version stamp: an edit to any instrument file changes it, and only its measure's."""

from __future__ import annotations

import shutil
from pathlib import Path

import valind.instruments as instruments
from valind.instruments import instruments_version


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "instruments"
    shutil.copytree(Path(instruments.__file__).parent, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_version_is_that_of_the_package_and_stable():
    assert instruments_version() == instruments_version()
    assert instruments_version("values") != instruments_version("refusal")


def test_an_edit_changes_the_version_of_its_measure_only(tmp_path):
    root = _copy(tmp_path)
    before = {m: instruments_version(m, root=root) for m in (None, "values", "refusal")}
    assert before[None] == instruments_version()  # the copy hashes like the package
    rules = root / "refusal" / "rules.py"
    rules.write_text(rules.read_text() + "\n# an edit\n")
    instruments_version.cache_clear()
    after = {m: instruments_version(m, root=root) for m in (None, "values", "refusal")}
    assert after[None] != before[None] and after["refusal"] != before["refusal"]
    assert after["values"] == before["values"]
    (root / "judges.py").write_text((root / "judges.py").read_text() + "\n")  # a shared module: every measure
    instruments_version.cache_clear()
    assert instruments_version("values", root=root) != before["values"]
