"""Layers, upward imports and import circles of the valind package, counting every import (inside functions too).

    python scripts/import_graph.py [--src src] [--list]

Reads the source with `ast` (nothing is imported or run). A module's imports of other valind modules are
every `import` / `from ... import` anywhere in it; `from .pkg import name` counts `pkg/name.py` when that
is a module, else `pkg/__init__.py`. Circles are the strongly connected groups of two or more modules.
Layers: each circle is cut by dropping, one at a time, the import whose removal breaks the most cycles
(ties: the import made inside a function first, then by name); those dropped imports are the upward ones
(a lower module reaching back up). Imports under `if TYPE_CHECKING:` never run and are not counted. On the remaining acyclic graph a module's layer is 1 + the highest layer
of what it imports (a module importing no valind module is layer 1). `--list` prints every upward import,
circle and function-level import.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def collect(src: Path, pkg: str = "valind") -> tuple[set[str], dict[str, dict[str, bool]]]:
    """Every module, and module -> {imported module: imported at top level?}."""
    files = {module_name(p, src): p for p in (src / pkg).rglob("*.py")}
    edges: dict[str, dict[str, bool]] = {m: {} for m in files}
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_pkg = path.name == "__init__.py"
        here = mod.split(".") if is_pkg else mod.split(".")[:-1]

        def visit(node, top: bool):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    continue  # for type checkers only: never runs
                inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, ast.Import):
                    for a in child.names:
                        add(resolve(a.name), top)
                elif isinstance(child, ast.ImportFrom):
                    base = child.module or ""
                    if child.level:
                        anchor = here[:len(here) - (child.level - 1)]
                        base = ".".join(anchor + ([base] if base else []))
                    for a in child.names:
                        target = f"{base}.{a.name}" if base else a.name
                        add(resolve(target) if target in files else resolve(base), top)
                visit(child, inner)

        def resolve(name: str) -> str | None:
            while name and name not in files:
                name = name.rpartition(".")[0]
            return name or None

        def add(target, top):
            if target and target != mod and target.split(".")[0] == pkg:
                edges[mod][target] = edges[mod].get(target, False) or top

        visit(tree, True)
    return set(files), edges


def sccs(nodes, succ) -> list[list[str]]:
    """Tarjan's strongly connected components."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    import sys
    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out


def break_cycles(nodes, edges) -> list[tuple[str, str]]:
    """Drop imports until no circle is left; return the dropped (upward) ones."""
    succ = {m: set(t) for m, t in edges.items()}
    dropped = []
    while True:
        knots = [c for c in sccs(nodes, succ) if len(c) > 1]
        if not knots:
            return dropped
        comp = set(knots[0])
        inside = [(a, b) for a in sorted(comp) for b in sorted(succ[a]) if b in comp]

        def score(e):
            a, b = e
            succ[a].discard(b)
            left = sum(len(c) for c in sccs(comp, {m: succ[m] & comp for m in comp}) if len(c) > 1)
            succ[a].add(b)
            return (left, edges[a][b], e)  # fewest modules left in circles; function-level first

        best = min(inside, key=score)
        succ[best[0]].discard(best[1])
        dropped.append(best)


def layers(nodes, succ) -> dict[str, int]:
    out: dict[str, int] = {}

    def layer(m):
        if m not in out:
            out[m] = 0  # guard (the graph is acyclic here)
            out[m] = 1 + max((layer(t) for t in succ.get(m, ())), default=0)
        return out[m]

    for m in nodes:
        layer(m)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"))
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    nodes, edges = collect(Path(args.src))
    n_imports = sum(len(t) for t in edges.values())
    n_inner = sum(1 for t in edges.values() for top in t.values() if not top)
    knots = [c for c in sccs(nodes, edges) if len(c) > 1]
    up = break_cycles(nodes, edges)
    succ = {m: set(t) - {b for a, b in up if a == m} for m, t in edges.items()}
    lay = layers(nodes, succ)
    top = {m: ".".join(m.split(".")[:2]) for m in nodes}
    pkg_edges = {}
    for a, ts in edges.items():
        for b in ts:
            if top[a] != top[b]:
                pkg_edges.setdefault(top[a], set()).add(top[b])
    pkg_knots = [c for c in sccs(set(top.values()), pkg_edges) if len(c) > 1]
    print(f"modules: {len(nodes)}; imports between valind modules: {n_imports} ({n_inner} inside functions)")
    print(f"circles (groups of modules importing each other): {len(knots)}"
          + "".join(f"\n  {' <-> '.join(c)}" for c in knots))
    print(f"upward imports (dropped to break the circles): {len(up)}"
          + "".join(f"\n  {a} -> {b}{'' if edges[a][b] else ' (in a function)'}" for a, b in up))
    print(f"layers: {max(lay.values())}")
    print(f"top-level modules and packages: {len(set(top.values()))}; largest knot of them: "
          f"{max((len(c) for c in pkg_knots), default=1)}")
    if args.list:
        for n in range(max(lay.values()), 0, -1):
            print(f"layer {n}: " + ", ".join(sorted(m for m in nodes if lay[m] == n)))
        print("imports inside functions:")
        for a in sorted(edges):
            for b, top_level in sorted(edges[a].items()):
                if not top_level:
                    print(f"  {a} -> {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
