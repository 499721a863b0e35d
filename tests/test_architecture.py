"""The layers of the package, read from its source: no import cycles, views read snapshots, data knows no screen.

Every ``import`` counts, also those inside functions (a lazy import is still a dependency);
only ``if TYPE_CHECKING:`` blocks are left out. Nothing is imported or run.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "xmpplab"

#: Known breaks being fixed on other branches of issue 11, each to be deleted when that work lands.
KNOWN: set[tuple[str, str]] = set()  # every break of the layering is gone


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


MODULES = _modules()


def _skipped(tree) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def _targets(module: str, node) -> list[str]:
    """The package's modules an import statement names (a name that is no module stands for its module)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
            here = here[: len(here) - (node.level - 1)]
            base = ".".join(here + ([base] if base else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    found = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.append(name)
    return found


def _graph() -> dict[str, set[str]]:
    edges = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _skipped(tree)
        edges[module] = {t for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                         and id(n) not in skip for t in _targets(module, n)}
    return edges


EDGES = _graph()


def _under(module: str, *layers: str) -> bool:
    return any(module == f"xmpplab.{layer}" or module.startswith(f"xmpplab.{layer}.") for layer in layers)


def _breaks(importers, imported) -> list[str]:
    return sorted(f"{m} -> {t}" for m, targets in EDGES.items() if _under(m, *importers)
                  for t in targets if _under(t, *imported) and f"{m} -> {t}" not in KNOWN)


def test_the_import_graph_is_read_from_the_source():
    assert "xmpplab.render.objects" in EDGES["xmpplab.render"]
    assert "xmpplab.server.snapshot" in EDGES["xmpplab.server.core"]
    assert {"xmpplab.snapshot"} <= EDGES["xmpplab.render.graph"]


def test_there_are_no_import_cycles():
    # Tarjan's strongly connected components: any with two or more modules is a cycle
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in EDGES[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(EDGES):
        if module not in index:
            visit(module)
    assert cycles == []


def test_views_import_nothing_from_the_server():
    """Views read ``Server.snapshot()`` (plain data in xmpplab.snapshot), never the live server."""
    assert _breaks(["render", "widgets"], ["server"]) == []


def test_the_server_imports_nothing_above_it():
    assert _breaks(["server"], ["lab", "client", "render", "widgets", "course", "cli", "scansion", "replay"]) == []
    assert [m for m, targets in EDGES.items() if _under(m, "server") and "xmpplab" in targets] == []


def test_data_knows_no_screen():
    """Addresses, streams, transcripts, recordings and snapshots show themselves through xmpplab.display."""
    data = ["jid", "jid_part", "jid_precis", "jid_domain", "stream", "xml", "transcript", "recording", "snapshot",
            "display", "errors"]
    assert _breaks(data, ["render", "widgets", "lab", "client", "server"]) == []
    assert EDGES["xmpplab.display"] == set() and EDGES["xmpplab.snapshot"] == set()


def test_the_client_and_the_lab_import_no_view():
    assert _breaks(["client", "lab"], ["render", "widgets"]) == []
