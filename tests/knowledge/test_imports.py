"""The knowledge package imports in one direction: no module reaches back to one that imports it.

Lazy imports inside functions count too: they hid the corpus_default -> pipeline -> retrieve
circle that this test now keeps out.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "knowledge"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, node])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [])):
            return found
    return None


def test_no_import_circle_in_the_knowledge_package():
    graph = _graph()
    assert "knowledge.pipeline" in graph["knowledge.corpus_default"]  # the graph is really read
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_retrieval_never_imports_the_corpus_builder():
    graph = _graph()
    assert "knowledge.corpus_default" not in graph["knowledge.retrieve"]
    assert "knowledge.pipeline" not in graph["knowledge.retrieve"]
