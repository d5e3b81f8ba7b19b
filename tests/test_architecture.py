"""The house rules that keep the code a model to copy, checked on the source itself:
one commit per request (none in views), no views module or app factory imported as a
library, domains importing each other only downhill."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "eventhub"
VIEW_MODULES = {"views.py", "manage_views.py", "comms_views.py", "write_views.py",
                "oidc_views.py", "speaker_views.py"}
TOP_VIEW_MODULES = {"eventhub.site", "eventhub.admin"}
# Bottom up; a domain may import its own modules and those of domains below it.
DOMAINS = ["accounts", "events", "registration", "programme", "polls", "directory",
           "followup", "community", "meetings", "privacy", "messaging", "api"]
# Entry points may build the app.
FACTORY_USERS = {"eventhub.cli", "eventhub.wsgi"}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


MODULES = _modules()
NAMES = {name for name, _ in MODULES}


def _is_view(module: str) -> bool:
    return module.rsplit(".", 1)[-1] + ".py" in VIEW_MODULES or module in TOP_VIEW_MODULES


def _imports(path: Path, module: str) -> list[tuple[str, int]]:
    """Every module imported by ``path`` (also inside functions), with its line."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in NAMES else base, node.lineno))
    return found


def _domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in DOMAINS else None


@pytest.mark.parametrize("module,path", [m for m in MODULES if _is_view(m[0])],
                         ids=[m[0] for m in MODULES if _is_view(m[0])])
def test_views_never_commit(module, path):
    calls = [node.lineno for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in {"commit", "rollback"}
             and not (module == "eventhub.site" and node.func.attr == "rollback")]
    assert not calls, f"{module} commits or rolls back on lines {calls}: the request does"


@pytest.mark.parametrize("module,path", MODULES, ids=[m[0] for m in MODULES])
def test_imports_run_downhill(module, path):
    problems = []
    own = _domain(module)
    for target, line in _imports(path, module):
        if not target.startswith("eventhub"):
            continue
        if _is_view(target) and not (path.name == "__init__.py"
                                     and target.startswith(module + ".")):
            problems.append(f"line {line}: imports the views module {target}")
        if target == "eventhub" and module not in FACTORY_USERS:
            problems.append(f"line {line}: imports the app factory's module")
        theirs = _domain(target)
        if own and theirs and DOMAINS.index(theirs) > DOMAINS.index(own):
            problems.append(f"line {line}: {own} imports {target}, a domain above it")
    assert not problems, f"{module}:\n" + "\n".join(dict.fromkeys(problems))


def test_nothing_registers_on_import():
    """Blueprints, panels and privacy parts are added in init_app: two apps in one process
    get the same wiring, once each."""
    from eventhub import contributions, create_app

    first, second = create_app({"TESTING": True}), create_app({"TESTING": True})
    for kind in ("panels.event_public", "panels.event_manage", "privacy.sections",
                 "mail.builders"):
        assert contributions.of(kind, first), kind
        assert len(contributions.of(kind, first)) == len(contributions.of(kind, second)), kind
    assert first.blueprints.keys() == second.blueprints.keys()
