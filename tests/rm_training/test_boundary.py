import subprocess
import sys


def test_it_imports_no_django_and_no_webapp():
    code = ("import sys, rm_training.train, rm_training.score, rm_training.data, rm_training.metrics; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'webapp', 'exporters')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
