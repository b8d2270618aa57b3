"""Installing the project (what ./run does first) prints nothing: no setuptools notices or license warnings."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# This machine's pip configuration names local index folders that may not exist; pip warns about each.
# That is the machine's, not the project's (./run filters exactly these lines too).
MACHINE_NOISE = re.compile(r"^WARNING: Location 'file://[^']*' is ignored: it is neither a file nor a directory\.$")


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="no database involved: the SQLite pass runs it")
def test_the_editable_install_is_silent(tmp_path):
    venv_python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv_python), "install", "-q", "--no-deps",
                             "-e", str(ROOT)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    noise = [line for line in (result.stdout + result.stderr).splitlines() if not MACHINE_NOISE.match(line)]
    assert noise == [], "\n".join(noise)
    check = subprocess.run([str(venv_python), "-c", "import importlib.util as u; assert all(u.find_spec(p) for p in ('webapp', 'exporters', 'rm_training', 'prefkit'))"],
                           capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
