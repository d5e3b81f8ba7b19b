"""Build step beside pyproject.toml: the wheel carries the app's run-time folders.

A checkout keeps templates/, migrations/ and deploy/ at the top; a built package holds
them as eventhub/templates, eventhub/migrations and eventhub/deploy (eventhub/paths.py
looks in both places). Editable installs read them where they are.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
TREES = ("templates", "migrations", "deploy")
SKIP = ("__pycache__", "*.pyc", "*.pyo")


class BuildWithTrees(build_py):
    """build_py, then copy the top-level run-time folders into the built package."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        for name in TREES:
            source = HERE / name
            if not source.is_dir():
                raise FileNotFoundError(f"{source} is missing: it belongs in the package")
            target = Path(self.build_lib) / "eventhub" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(*SKIP))


setup(cmdclass={"build_py": BuildWithTrees})
