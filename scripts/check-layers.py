#!/usr/bin/env python3
"""Checks the layering of src/ from its `use` lines (tests included).

- No import runs from a lower layer to a higher one: domain < rules, import
  < storage < app < grpc < startup; config (the command line) may use the
  pure floors only.
- The pure floors (domain, rules, import) use no tokio, sqlx or tonic.
- No two files import each other.

Prints every violation and exits 1 when there is one.

    python3 scripts/check-layers.py
"""
import pathlib
import re
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"

# What each top-level module may import from the crate.
ALLOWED = {
    "domain": {"domain", "error"},
    "rules": {"domain", "rules", "error"},
    "import": {"domain", "import", "error"},
    "x12": {"domain", "x12", "error"},
    "error": {"error"},
    "config": {"config", "domain", "import", "error"},
    "storage": {"storage", "domain", "import", "config", "error"},
    "app": {"app", "storage", "domain", "rules", "import", "x12", "config", "error"},
    "grpc": {"grpc", "app", "domain", "rules", "x12", "tls", "error"},
    "telemetry": {"telemetry", "config"},
    "tls": {"tls", "config"},
    "shutdown": {"shutdown", "grpc"},
    "startup": {"startup", "grpc", "app", "storage", "domain", "rules", "x12", "config", "shutdown", "tls", "error"},
}
PURE = {"domain", "rules", "import", "x12"}
IMPURE_CRATES = ("tokio", "sqlx", "tonic", "tokio_stream", "tokio_util", "prost")

USE = re.compile(r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M)


def module_of(path):
    """The module path of a source file: src/app/batch.rs -> ['app', 'batch']."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts == ["lib"] or parts == ["main"]:
        return []
    return parts


def files():
    return {tuple(module_of(p)): p for p in SRC.rglob("*.rs")}


def targets(use_tree, here):
    """Crate paths named by one `use` tree, resolved against `here`."""
    tree = re.sub(r"\s+", "", use_tree)
    head, _, _ = tree.partition("{")
    head = head.rstrip(":")
    parts = [p for p in head.split("::") if p]
    if not parts:
        return []
    if parts[0] == "crate":
        base = parts[1:]
    elif parts[0] == "super":
        base = list(here[:-1])
        for p in parts[1:]:
            if p == "super":
                base = base[:-1]
            else:
                base.append(p)
    elif parts[0] == "self":
        base = list(here) + parts[1:]
    else:
        return [("extern", parts[0])]
    paths = [base]
    if "{" in tree:
        inner = tree[tree.index("{") + 1 : tree.rindex("}")]
        depth, item, items = 0, "", []
        for ch in inner:
            if ch == "," and depth == 0:
                items.append(item)
                item = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            item += ch
        items.append(item)
        paths = [base + [p for p in i.split("{")[0].split("::") if p and p != "self"] for i in items if i]
    return [("crate", tuple(p)) for p in paths]


def resolve(path, modules):
    """The deepest module file a crate path lands in."""
    for n in range(len(path), 0, -1):
        if path[:n] in modules:
            return path[:n]
    return None


def main():
    modules = files()
    edges = {}
    problems = []
    for module, path in modules.items():
        top = module[0] if module else "main"
        text = path.read_text()
        for indent, use in USE.findall(text):
            # An indented `use` sits in an inline module (the tests), whose
            # `super` is this file's module.
            here = module + ("tests",) if indent else module
            for kind, target in targets(use, here):
                if kind == "extern":
                    if top in PURE and target in IMPURE_CRATES:
                        problems.append(f"{path.relative_to(SRC.parent)}: pure {top} uses {target}")
                    continue
                if not target:
                    continue
                if top in ALLOWED and target[0] not in ALLOWED[top]:
                    problems.append(
                        f"{path.relative_to(SRC.parent)}: {top} imports {'::'.join(target)} (a higher layer)"
                    )
                landed = resolve(target, modules)
                if landed is not None and landed != module:
                    edges.setdefault(module, set()).add(landed)
    for a, targets_of_a in edges.items():
        for b in targets_of_a:
            if a < b and a in edges.get(b, set()):
                problems.append(
                    f"{modules[a].relative_to(SRC.parent)} and {modules[b].relative_to(SRC.parent)} import each other"
                )
    for problem in sorted(set(problems)):
        print(problem)
    if problems:
        sys.exit(1)
    print(f"layers: {len(modules)} files, {sum(len(t) for t in edges.values())} imports between them, no violation")


if __name__ == "__main__":
    main()
