"""The documentation keeps up with the code.

- Every environment variable the code reads is in a settings table of README.md or
  docs/*.md, and every name in those tables is still read somewhere.
- README.md stays short and starts with the two commands a newcomer needs (CI runs
  them as written there).
- Relative links and the repository paths the documentation names (the tests that prove
  a claim, the modules it explains) exist.

Settings are found with a regex over the Python files that configure the app: config.py
(or eventhub/settings.py with config.py re-exporting it), wsgi.py, every module under
eventhub/ and the gunicorn config under deploy/.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_LIMIT = 15_000  # bytes

DEMO_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/eventhub demo"
)
TEST_COMMAND = (
    "apt-get install -y chromium default-jre-headless && npm ci --ignore-scripts && "
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest"
)

NAME = r"([A-Z][A-Z0-9_]*)"
QUOTE = r"""["']"""
# Ways the code reads one variable by a literal name. Helpers like config's
# ``_bool("NAME", default)`` and ``_int("NAME", default)`` are added to these by
# ``reader_helpers`` (any function that passes its first parameter to os.environ).
DIRECT_READS = [
    rf"\benviron\.get\(\s*{QUOTE}{NAME}{QUOTE}",  # os.environ.get("NAME"
    rf"\benviron\[\s*{QUOTE}{NAME}{QUOTE}\s*\]",  # os.environ["NAME"]
    rf"\benviron\.setdefault\(\s*{QUOTE}{NAME}{QUOTE}",  # os.environ.setdefault("NAME"
    rf"\bgetenv\(\s*{QUOTE}{NAME}{QUOTE}",  # os.getenv("NAME"
    rf"\benvvar\s*=\s*{QUOTE}{NAME}{QUOTE}",  # click.option(..., envvar="NAME")
]
KNOWN_HELPERS = {"_bool", "_int"}

SETTINGS_TABLE_HEADERS = {"setting", "variable", "environment variable"}


def source_files() -> list[Path]:
    """The Python files whose environment reads are settings an operator may set."""
    files = [ROOT / "config.py", ROOT / "wsgi.py", ROOT / "eventhub" / "settings.py"]
    files += sorted((ROOT / "eventhub").rglob("*.py"))
    if (ROOT / "deploy").is_dir():
        files += sorted((ROOT / "deploy").rglob("*.py"))
    seen: set[Path] = set()
    return [f for f in files if f.is_file() and not (f in seen or seen.add(f))]


def _reads_environ_with(node: ast.AST, param: str) -> bool:
    """``node`` reads ``os.environ`` (or getenv) with the variable ``param`` as the name."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and sub.args and _is_name(sub.args[0], param):
            func = sub.func
            if isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(
                    func.value):
                return True
            if (isinstance(func, ast.Attribute) and func.attr == "getenv") or (
                    isinstance(func, ast.Name) and func.id == "getenv"):
                return True
        if isinstance(sub, ast.Subscript) and _is_environ(sub.value) and _is_name(
                sub.slice, param):
            return True
    return False


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ")


def reader_helpers(tree: ast.Module) -> set[str]:
    """Functions of a module that read the environment variable named by their first
    parameter, e.g. config's ``_bool(name, default)``."""
    helpers = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.args.args:
            if _reads_environ_with(node, node.args.args[0].arg):
                helpers.add(node.name)
    return helpers


def settings_read() -> dict[str, list[str]]:
    """{variable name: ["path:line", …]} for every variable the code reads by name."""
    files = {path: path.read_text(encoding="utf-8") for path in source_files()}
    helpers = set(KNOWN_HELPERS)
    for text in files.values():
        helpers |= reader_helpers(ast.parse(text))
    patterns = [re.compile(p) for p in DIRECT_READS]
    patterns += [re.compile(rf"(?<![\w.]){re.escape(h)}\(\s*{QUOTE}{NAME}{QUOTE}")
                 for h in sorted(helpers)]
    found: dict[str, list[str]] = {}
    for path, text in files.items():
        for pattern in patterns:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                where = f"{path.relative_to(ROOT)}:{line}"
                found.setdefault(match.group(1), []).append(where)
    return found


def doc_files() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def settings_documented() -> dict[str, list[str]]:
    """{variable name: ["file:line", …]} for the backticked names in the first column of
    every settings table (a table whose first header cell is "setting" or "variable")."""
    documented: dict[str, list[str]] = {}
    for path in doc_files():
        in_table = False
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if not line.lstrip().startswith("|"):
                in_table = False
                continue
            cells = _cells(line)
            if not in_table:
                # A header row: the next line is the |---| separator.
                following = lines[number] if number < len(lines) else ""
                in_table = (cells[0].lower() in SETTINGS_TABLE_HEADERS
                            and set(following.replace("|", "").strip()) <= set("-: "))
                continue
            if set(line.replace("|", "").strip()) <= set("-: "):
                continue  # the separator
            for name in re.findall(rf"`{NAME}`", cells[0]):
                documented.setdefault(name, []).append(f"{path.relative_to(ROOT)}:{number}")
    return documented


# Settings ---------------------------------------------------------------------------


def test_the_scanner_finds_the_settings_config_reads():
    read = settings_read()
    for name in ("EVENTHUB_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL",
                 "SESSION_COOKIE_SECURE", "MAX_CONTENT_LENGTH", "RATELIMIT_VOTE",
                 "SSE_MAX_SECONDS", "PROMETHEUS_MULTIPROC_DIR"):
        assert name in read, f"the scanner no longer finds {name}; fix its patterns"


def test_the_regex_catches_every_literal_read_the_parser_sees():
    """The regex is what counts; the AST double-checks it misses no way of reading."""
    read = settings_read()
    missed = []
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        helpers = KNOWN_HELPERS | reader_helpers(tree)
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Call) and node.args and isinstance(
                    node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                func = node.func
                if ((isinstance(func, ast.Attribute) and func.attr == "get"
                     and _is_environ(func.value))
                        or (isinstance(func, ast.Attribute) and func.attr == "getenv")
                        or (isinstance(func, ast.Name) and func.id in helpers | {"getenv"})):
                    name = node.args[0].value
            elif isinstance(node, ast.Subscript) and _is_environ(node.value) and isinstance(
                    node.slice, ast.Constant) and isinstance(node.slice.value, str):
                name = node.slice.value
            if name and name not in read:
                missed.append(f"{name} ({path.relative_to(ROOT)}:{node.lineno})")
    assert not missed, "read from the environment but not found by the regex: " + ", ".join(
        missed)


def test_every_setting_the_code_reads_is_documented():
    read, documented = settings_read(), settings_documented()
    missing = sorted(set(read) - set(documented))
    assert not missing, (
        "settings read from the environment but in no settings table of README.md or "
        "docs/*.md:\n" + "\n".join(f"  {name} (read at {', '.join(read[name])})"
                                   for name in missing))


def test_every_documented_setting_is_still_read():
    read, documented = settings_read(), settings_documented()
    stale = sorted(set(documented) - set(read))
    assert not stale, (
        "settings documented but read nowhere in the code any more:\n"
        + "\n".join(f"  {name} ({', '.join(documented[name])})" for name in stale))


# README -----------------------------------------------------------------------------


def code_blocks(text: str) -> list[tuple[int, str]]:
    """(offset, content) of each fenced code block."""
    return [(m.start(), m.group(1).strip())
            for m in re.finditer(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)]


def test_readme_is_short():
    size = len(README.read_bytes())
    assert size < README_LIMIT, (
        f"README.md is {size} bytes; keep it under {README_LIMIT} (details go to docs/)")


def test_readme_starts_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    blocks = code_blocks(text)
    assert [content for _, content in blocks[:2]] == [DEMO_COMMAND, TEST_COMMAND]
    first_section = text.find("\n## ")
    assert first_section == -1 or blocks[1][0] < first_section, (
        "the two commands come before the first section")


# Links and paths --------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", path.read_text(encoding="utf-8"))
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def _prose(path: Path) -> str:
    return re.sub(r"(?ms)^```.*?^```", "", path.read_text(encoding="utf-8"))


def test_links_between_the_documents_resolve():
    broken = []
    for path in [*doc_files(), ROOT / "CHANGELOG.md"]:
        if not path.exists():
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(path)):
            if re.match(r"[a-z]+:", target):
                continue  # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{path.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_files_the_documents_name_exist():
    """The tests that prove a claim and the modules the documents explain are there."""
    prefixes = r"(?:tests|eventhub|deploy|docs|migrations|templates|\.ci)/"
    missing = []
    for path in [*doc_files(), ROOT / "CHANGELOG.md"]:
        if not path.exists():
            continue
        for name in re.findall(rf"`({prefixes}[^`<>…*\s]*)`", _prose(path)):
            if not (ROOT / name).exists():
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert not missing, "named in the documentation but missing:\n" + "\n".join(missing)
