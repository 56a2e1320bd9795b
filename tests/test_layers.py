"""The layering of pyproject.toml's import-linter contracts, as a test, so that `make test`
catches a back-edge as `make lint` does:

    server : examples : parley.routing : parley.urls        wiring
    parley.api | parley.realtime                            the two edges, independent
    parley.services : selectors : access : events           the core
    parley.models

A second run on a throwaway tree with one back-edge (models importing services) shows
that the same contracts, read from the same file, do break.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=where, capture_output=True, text=True, timeout=120
    )


def test_the_code_keeps_every_contract() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


def test_a_back_edge_breaks_the_layers_contract(tmp_path: Path) -> None:
    modules = {
        "parley/__init__.py": "",
        "parley/models.py": "from parley.services import write\n",  # the back-edge
        "parley/services/__init__.py": "from parley import access, events, models, selectors\nwrite = 1\n",
        "parley/selectors.py": "from parley import events, models\n",
        "parley/access.py": "from parley import models\n",
        "parley/events.py": "from parley import models\n",
        "parley/api/__init__.py": "from parley import services\n",
        "parley/realtime/__init__.py": "from parley import services\n",
        "parley/worker.py": "from parley import services\n",
        "parley/routing.py": "from parley import realtime\n",
        "parley/urls.py": "from parley import api\n",
        "parley/representations.py": "",
        "parley/attachments.py": "",
        "server/__init__.py": "from parley import routing\n",
        "server/accounts.py": "from parley import services\n",
        "examples/__init__.py": "from parley import routing\n",
    }
    for name, source in modules.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    config = (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(
        config[config.index("[tool.importlinter]") : config.index("[tool.django-stubs]")]
    )

    result = lint(tmp_path)

    assert result.returncode != 0
    assert "parley.models is not allowed to import parley.services" in result.stdout, result.stdout
