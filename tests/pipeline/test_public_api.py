"""The public API (issue 22, item 6): the docs import only from `valind`, every name they import exists there,
and `import valind` stays cheap."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import valind

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted([REPO / "README.md", *(REPO / "docs").rglob("*.md")])


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def _valind_imports(code: str) -> list[tuple[str, list[str]]]:
    """(module, names) of each import of valind in a snippet (names empty for `import valind...`), and of
    each `valind.<name>` it reads."""
    out = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "valind":
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.split(".")[0] == "valind"]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "valind":
            out.append(("valind", [node.attr]))  # `import valind` then `valind.load_study(...)`
    return out


def test_docs_snippets_import_only_from_valind_and_the_names_exist():
    seen = []
    for doc in DOCS:
        for code in _python_blocks(doc):
            try:
                imports = _valind_imports(code)
            except SyntaxError:  # an interface signature shown as a block, not a program
                continue
            for module, names in imports:
                where = f"{doc.relative_to(REPO)}: `{module}`"
                assert module == "valind", f"{where}: the docs import from `valind` only (its public API)"
                for name in names:
                    assert name in valind.__all__, f"{where}: `{name}` is not in valind.__all__"
                    assert getattr(valind, name) is not None
                seen += names
    assert {"SourceSpec", "ingest", "EffectOptions", "compute_effects", "load_study", "run_study"} <= set(seen)


def test_every_exported_name_resolves():
    for name in valind.__all__:
        assert getattr(valind, name) is not None, name
    assert valind.suites.get("advbench").task == "refusal"  # the registries are the live ones


def test_import_valind_is_cheap():
    code = "import sys, valind; print(sorted({'torch', 'pandas', 'pydantic', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
