"""The house's layout holds: no module imports, however indirectly, a module that imports
it back (a loop makes the import order matter and hides which side owns what), and the
layer contract in `.importlinter` is the one `make lint` checks."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
CONFIG = configparser.ConfigParser()
CONFIG.read(ROOT / ".importlinter")
PACKAGES = CONFIG["importlinter"]["root_packages"].split()


def _loops(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module (or a module that
    imports itself): each is an import loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            module, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                    break
                if child in on_stack:
                    low[module] = min(low[module], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        loops.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return loops


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    assert _loops(graph) == []


def test_the_loop_finder_finds_a_loop() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.one", "a.two", "a.three"):
        graph.add_module(module)
    graph.add_import(importer="a.one", imported="a.two")
    graph.add_import(importer="a.two", imported="a.three")
    graph.add_import(importer="a.three", imported="a.one")
    assert _loops(graph) == [["a.one", "a.three", "a.two"]]


def test_every_app_is_in_the_layer_contract() -> None:
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")} | {
        p.parent.name for p in ROOT.glob("*/models.py")
    }
    layered = set(CONFIG["importlinter:contract:layers"]["layers"].replace("|", " ").split())
    assert apps - {"config"} <= layered
    assert set(PACKAGES) - {"config"} == layered


def _links(markdown: Path) -> list[str]:
    """The relative link targets of a Markdown file, outside code blocks."""
    text = re.sub(r"```.*?```", "", markdown.read_text(), flags=re.S)
    targets = [m.group(1) for m in re.finditer(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)]
    return [t for t in targets if not t.startswith(("http://", "https://", "mailto:"))]


def test_the_readme_is_short_and_every_link_resolves() -> None:
    """A newcomer reads the README in five minutes; everything it and docs/ link to is in
    the repository."""
    readme = ROOT / "README.md"
    assert len(readme.read_text().splitlines()) <= 200
    pages = [readme, *sorted((ROOT / "docs").glob("*.md"))]
    broken = [
        f"{page.name}: {target}"
        for page in pages
        for target in _links(page)
        if not (page.parent / target).resolve().exists()
    ]
    assert broken == []
    assert "docs/architecture.md" in _links(readme)
