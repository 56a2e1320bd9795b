"""The distribution `parley` installs from a built wheel into a fresh virtual environment
and runs in a host project on its own: no import reaches back into this repository.

Slow (a venv and a pip install from the package index): `make test-slow`, which CI runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(*argv: str | Path, cwd: Path | None = None) -> str:
    # Not this run's settings, paths or services: the host runs on its own SQLite file.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DATABASE_URL", "REDIS_URL"}
    }
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def test_wheel_installs_into_a_fresh_venv_and_the_example_host_runs_on_it(tmp_path):
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", ROOT)
    [wheel] = (tmp_path / "dist").glob("parley-*.whl")
    top_level = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert top_level == {"parley", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    # django-environ is the example host's own dependency, not Parley's.
    run(python, "-m", "pip", "install", "-q", wheel, "django-environ")

    # The host project outside this checkout, so only the installed wheel provides `parley`.
    app = tmp_path / "app"
    shutil.copytree(ROOT / "examples", app / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    where = run(python, "-c", "import parley; print(parley.__file__)", cwd=app)
    assert where.startswith(str(venv)), where
    env_check = run(python, "examples/host/manage.py", "check", cwd=app)
    assert "no issues" in env_check
    run(python, "examples/host/manage.py", "migrate", "--noinput", "-v0", cwd=app)
    shown = run(python, "examples/host/manage.py", "showmigrations", "parley", cwd=app)
    assert "[X] 0001_initial" in shown
