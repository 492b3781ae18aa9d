"""The package's layers: each imports only the ones below it, and no module imports itself back.

The layers, from the bottom (a package may import any package of a lower
layer, never one of its own layer or above):

0. the compiled C core ``_pynncomp_c``; the argument checks; the file,
   memory and thread helpers;
   the package root's own names (``__version__``, ``BackendError``)
1. ``kernels``
2. ``nn``, ``data``, ``gradcheck``
3. ``compress``, ``models``, ``io``
4. ``methods``, ``train``
5. ``experiment``, ``evaluation``
6. ``reproduce``, ``quickstart``, ``course``
7. ``cli``
8. ``__main__``

The package root (``pynncomp/__init__.py``) is the package's front: it may
name anything it re-exports.

Every import statement counts, at the top of a module or inside a function:
an import deferred to run time still couples the layers.  The imports are
read from the source with :mod:`ast`, not by importing, so the test also
covers modules no other test imports.
"""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "pynncomp"

LAYERS = [
    {"_pynncomp_c", "_checks", "_files", "_memory", "_threads", ""},
    {"kernels"},
    {"nn", "data", "gradcheck"},
    {"compress", "models", "io"},
    {"methods", "train"},
    {"experiment", "evaluation"},
    {"reproduce", "quickstart", "course"},
    {"cli"},
    {"__main__"},
]
LAYER_OF = {name: level for level, names in enumerate(LAYERS) for name in names}
ROOT_NAMES = {"__version__", "BackendError"}  # attributes of the package root, not modules


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path, name=None):
    """The pynncomp modules (dotted names) imported anywhere in the file at ``path``.

    ``name`` is the module's dotted name (default: from its place in the package).
    """
    name = module_name(path) if name is None else name
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "pynncomp")
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if not (node.module or "").startswith("pynncomp"):
                    continue
                base = node.module
            else:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                # "from . import cli" names a module; "from .nn import Dense" names a class in nn
                if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists() or \
                        (PACKAGE.parent / candidate.replace(".", "/") / "__init__.py").exists():
                    found.add(candidate)
                elif alias.name not in ROOT_NAMES or base != "pynncomp":
                    found.add(base)
                else:
                    found.add("pynncomp")
    found.discard(name)
    return found


def component(module):
    """The first name below ``pynncomp`` ("" for the package root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


GRAPH = {module_name(path): imported_modules(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_belongs_to_a_layer():
    unplaced = sorted({component(module) for module in GRAPH} - set(LAYER_OF))
    assert unplaced == [], f"place these in LAYERS: {unplaced}"


@pytest.mark.parametrize("module", sorted(set(GRAPH) - {"pynncomp"}))
def test_a_module_imports_only_lower_layers(module):
    level = LAYER_OF[component(module)]
    upward = sorted(target for target in GRAPH[module]
                    if component(target) != component(module) and LAYER_OF[component(target)] >= level)
    assert upward == [], f"{module} (layer {level}) imports from its own layer or above: {upward}"


def test_no_import_cycle():
    """Tarjan's strongly connected components of the module graph: each must be a single module."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in GRAPH.get(module, ()):
            if target not in GRAPH:
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == module:
                    break
            if len(members) > 1:
                cycles.append(sorted(members))

    for module in GRAPH:
        if module not in index:
            visit(module)
    # a package's __init__ re-exporting its modules, which import siblings
    # through the package, is not a cycle of logic
    cycles = [members for members in cycles if not _only_package_reexports(members)]
    assert cycles == [], f"import cycles: {cycles}"


def _only_package_reexports(members):
    """True when every edge of the cycle that closes it goes from a package __init__ to its own submodule."""
    packages = {module for module in members if (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()}
    for module in members:
        for target in GRAPH[module] & set(members):
            if module in packages and target.startswith(module + "."):
                continue  # the package re-exports its submodule
            if target in packages and module.startswith(target + "."):
                continue  # a submodule imports its package (for a sibling)
            return False
    return True


def test_the_checker_sees_an_upward_import_inside_a_function(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..experiment import run\n    from . import dense\n")
    found = imported_modules(probe, "pynncomp.nn.probe")
    assert found == {"pynncomp.experiment", "pynncomp.nn.dense"}
    assert LAYER_OF[component("pynncomp.experiment")] > LAYER_OF["nn"]
