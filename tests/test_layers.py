"""Layers point down: no two parts of emo_lib import each other (in-function imports included);
the book machinery imports no paper package, and the runner and the shared low pieces do not
even name one (docstrings included)."""
import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "emo_lib"
PAPERS = ("jeong2021", "noh2023")
#: The book machinery: none of it imports a paper package.
MACHINERY = ("runner", "book", "layout", "notebook_parameters", "planning",
             "rerun_spec")
#: ... and these do not name one at all.
NAMELESS = ("runner", "layout", "notebook_parameters", "planning", "rerun_spec")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    """Module -> the emo_lib modules it imports, wherever the import statement stands."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] \
                    if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                targets = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                if t in modules and t != name:
                    graph.add_edge(name, t)
    return graph


def part(module: str) -> str:
    """emo_lib.data.adapters.cafe -> data; emo_lib.faces -> faces."""
    return module.split(".")[1] if "." in module else module


def test_no_two_parts_of_emo_lib_import_each_other():
    parts = nx.DiGraph()
    for a, b in import_graph().edges:
        if part(a) != part(b):
            parts.add_edge(part(a), part(b), via=f"{a} -> {b}")
    cycles = list(nx.simple_cycles(parts))
    shown = ["; ".join(parts.edges[a, b]["via"] for a, b in zip(c, c[1:] + c[:1])) for c in cycles]
    assert not cycles, "import cycles between parts of emo_lib:\n" + "\n".join(shown)


def test_the_book_machinery_knows_no_paper():
    graph = import_graph()
    for module in graph.nodes:
        if part(module) in MACHINERY:
            papers = [t for t in graph.successors(module) if part(t) in PAPERS]
            assert not papers, f"{module} imports {papers}"
    for name in NAMELESS:
        files = (PACKAGE / name).rglob("*.py") if (PACKAGE / name).is_dir() \
            else [PACKAGE / f"{name}.py"]
        for path in files:
            text = path.read_text()
            assert not any(p in text for p in PAPERS), f"{path.relative_to(ROOT)} names a paper"


def test_the_graph_sees_in_function_imports():
    graph = import_graph()    # e.g. planning imports the provider module only in a function
    assert graph.has_edge("emo_lib.data.registry", "emo_lib.data.adapters")
