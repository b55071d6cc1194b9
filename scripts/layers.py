#!/usr/bin/env python3
"""Checks the layout docs/testing.md's "The code" draws: no import circle between the files
of src/, and no arrow from a lower area up into a higher one (the page's and the
server's halves use the contract and the core, never the other way; the two halves
never use each other). Test modules (after `#[cfg(test)]`) are left out.

Written here because Rust's own tools do not report file-level circles; it reads `use`
declarations and `crate::`/`super::`/`self::` paths in code, not their meaning.
"""

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

# Which areas each area may use (its own included). `api` names the server's bodies
# behind its server functions, which the ssr build compiles in: that one arrow is the
# contract's, not a circle (the bodies never use `api/mod.rs`). The server renders the
# page (the app and its components), so it may name them.
MAY_USE = {
    "core": {"core"},
    "api": {"core", "api", "server"},
    "server": {"core", "api", "server", "app", "components", "client"},
    "client": {"core", "api", "client"},
    "browser": {"core", "api", "browser"},
    "components": {"core", "api", "browser", "components"},
    "app": {"core", "api", "browser", "components", "app"},
    "lib": {"core", "api", "browser", "components", "app", "server", "client", "lib"},
    "main": {"core", "api", "server", "client", "app", "lib", "main"},
}


# The server half's floors, from the bottom: what every job builds on (tags, the clock,
# tokens, metrics), the stores and the database, the rooms that own its tables (links,
# the record), the state that holds them, the jobs that use the state, and the command
# line that builds it all. A file uses only its own floor and below.
SERVER_FLOORS = [
    {"signing", "system", "token", "metrics"},
    {"s3", "embedded_store", "database"},
    {"api_tokens", "hooks", "links", "record"},
    {"state"},
    {"upload", "operator", "http"},
    {"cli"},
]


def floor_of(module: tuple[str, ...]) -> int | None:
    if len(module) < 2 or module[0] != "server":
        return None
    return next((i for i, names in enumerate(SERVER_FLOORS) if module[1] in names), None)


def module_of(path: Path) -> list[str]:
    """`src/browser/upload/mod.rs` → ["browser", "upload"]; lib.rs and main.rs → []."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def files() -> dict[tuple[str, ...], Path]:
    found = {}
    for path in SRC.rglob("*.rs"):
        if path.name == "main.rs":
            continue
        found[tuple(module_of(path))] = path
    return found


def code_of(path: Path) -> str:
    text = path.read_text()
    # Test modules are not the layout.
    test = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod ", text, re.M)
    if test:
        text = text[: test.start()]
    # Comments and strings say things, they do not use them.
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def expand(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` → ["a::b", "a::c::d", "a::c::e"]."""
    tree = tree.strip()
    brace = tree.find("{")
    if brace < 0:
        return [re.sub(r"\s+as\s+\w+$", "", tree)]
    prefix = tree[:brace]
    inner = tree[brace + 1 : tree.rindex("}")]
    items, depth, start = [], 0, 0
    for i, c in enumerate(inner):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(inner[start:i])
            start = i + 1
    items.append(inner[start:])
    return [p for item in items if item.strip() for p in expand(prefix + item.strip())]


def paths_in(code: str, children: set[str]) -> list[str]:
    paths = []
    for use in re.finditer(r"\buse\s+([^;]+);", code):
        paths += expand(use.group(1))
    paths += re.findall(r"\b(?:crate|super|self)(?:::\w+)+", code)
    # A bare path into one of the module's own children (`text::progress`).
    for child in re.findall(r"(?<![:\w])(\w+)::", code):
        if child in children:
            paths.append(f"self::{child}")
    return paths


def resolve(path: str, here: list[str], known) -> tuple[str, ...] | None:
    """The file a path names: the longest module prefix that is a file of src/."""
    parts = path.replace(" ", "").split("::")
    if parts[0] == "crate":
        base, rest = [], parts[1:]
    elif parts[0] in ("super", "self"):
        base = list(here)
        while parts and parts[0] in ("super", "self"):
            if parts.pop(0) == "super":
                base = base[:-1]
        rest = parts
    else:
        return None  # another crate
    target = tuple(base)
    for part in rest:
        if tuple(base) + (part,) in known:
            base.append(part)
            target = tuple(base)
        else:
            break
    return target


def main() -> int:
    known = files()
    edges: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in known}
    for module, path in known.items():
        children = {m[-1] for m in known if len(m) == len(module) + 1 and m[:-1] == module}
        for used in paths_in(code_of(path), children):
            target = resolve(used, list(module), known)
            if target is not None and target != module and target in known:
                edges[module].add(target)
    problems = []
    for module, targets in edges.items():
        area = module[0] if module else "lib"
        for target in targets:
            other = target[0] if target else "lib"
            if other not in MAY_USE.get(area, {area}):
                problems.append(f"{known[module].relative_to(SRC.parent)} uses {known[target].relative_to(SRC.parent)}: {area} may not use {other}")
        for target in targets:
            mine, theirs = floor_of(module), floor_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                problems.append(f"{known[module].relative_to(SRC.parent)} uses {known[target].relative_to(SRC.parent)}, a floor above it")
    # Circles: strongly connected components of more than one file (Tarjan).
    index, low, stack, on, order = {}, {}, [], set(), [0]
    circles = []

    def visit(v):
        index[v] = low[v] = order[0]
        order[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for circle in circles:
        names = ", ".join(str(known[m].relative_to(SRC.parent)) for m in circle)
        problems.append(f"an import circle: {names}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"layers: {len(known)} files, {sum(map(len, edges.values()))} arrows, no circle, none upward")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
