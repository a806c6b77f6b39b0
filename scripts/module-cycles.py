#!/usr/bin/env python3
"""Fails when a crate's top-level modules import each other in a cycle.

Reads `crate::name` paths outside `#[cfg(test)]` code and comments in every `src/` of the
workspace, builds the graph of top-level modules per crate, and prints each cycle found."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent


def edges(src_dir):
    graph = {}
    for path in src_dir.rglob("*.rs"):
        rel = path.relative_to(src_dir)
        top = rel.parts[0].removesuffix(".rs")
        if top in ("main", "lib") or "tests" in rel.parts[1:] or rel.name == "tests.rs":
            continue
        code = re.split(r"#\[cfg\(test\)\]", path.read_text())[0]
        code = re.sub(r"//[^\n]*", "", code)
        for used in re.findall(r"\bcrate::([a-z_0-9]+)", code):
            if used != top:
                graph.setdefault(top, set()).add(used)
    return graph


def cycles(graph):
    state, found = {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt] if nxt in path else path + [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


failed = False
for src in sorted(root.glob("*/src")):
    for cycle in cycles(edges(src)):
        failed = True
        print(f"{src.parent.name}: module cycle {' -> '.join(cycle)}")
sys.exit(1 if failed else 0)
