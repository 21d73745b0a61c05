"""The package's layers: each subpackage imports only those below it.

    errors < cluster < kube < widgets, lab < the ``ch.`` facade (and ``ch.blocking``), the CLI

A module-level or function-level import that reaches up (or sideways between
widgets and lab) fails here, naming the file and the line.
"""

import ast
from pathlib import Path

import course_helpers

ROOT = Path(course_helpers.__file__).parent

#: The rank of each layer; a module may import from its own layer or a lower one.
LAYERS = {
    "errors": 0,
    "cluster": 1,
    "kube": 2,
    "widgets": 3,
    "lab": 3,
    "cli": 4,
    "blocking": 4,
    "": 4,
}
#: Layers of the same rank that must not import each other.
SIBLINGS_APART = {frozenset({"widgets", "lab"})}


def layer_of(module: str) -> str:
    parts = module.split(".")
    assert parts[0] == "course_helpers", module
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            ours = [a.name for a in node.names if a.name.startswith("course_helpers")]
            found += [(node.lineno, name) for name in ours]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("course_helpers"):
                continue
            if node.module is None or target == "course_helpers":
                # ``from . import x``: x may be a subpackage
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, target))
    return found


def violations() -> list[str]:
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        own = layer_of(module_name(path))
        for line, target in imported_modules(path):
            other = layer_of(target)
            if other not in LAYERS:  # e.g. course_helpers.__version__-style names
                continue
            up = LAYERS[other] > LAYERS[own]
            apart = frozenset({own, other}) in SIBLINGS_APART
            if up or apart:
                where = f"{path.relative_to(ROOT.parent)}:{line}"
                bad.append(f"{where} ({own or 'facade'}) imports {target}")
    return bad


def test_every_module_belongs_to_a_layer() -> None:
    unknown = {layer_of(module_name(p)) for p in ROOT.rglob("*.py")} - set(LAYERS)
    assert not unknown, f"modules outside the layers: {unknown}"


def test_no_layer_imports_a_higher_one() -> None:
    assert violations() == []


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    fake = ROOT / "kube" / "_layer_probe.py"
    fake.write_text("from ..widgets import PodsPerNode\n")
    try:
        assert any("_layer_probe" in v for v in violations())
    finally:
        fake.unlink()
