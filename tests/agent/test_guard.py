"""The guard in conftest.py: a test whose loop over a table's rows ran zero times fails."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = '''
from tablecheck import generate

def test_loops_over_no_rows(query):
    for row in query("SELECT * FROM users WHERE uid = -5"):
        assert row["uid"] == -5

def test_compares_no_rows(query):
    assert query("SELECT * FROM users WHERE uid = -5") == []

def test_loops_over_a_generators_rows():
    assert [row["uid"] for row in generate("users") if row["uid"] == 0] == [0]

def test_loops_over_no_generated_rows():
    assert not [row for row in generate("users", {"uid": [("=", -5)]})]
'''


def test_a_loop_over_no_rows_fails_the_test(tmp_path):
    (tmp_path / "test_loops.py").write_text(TESTS)
    # conftest.py loaded as a plugin: its fixtures and its hook, for a test file outside tests/agent
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_loops.py")],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=HERE), check=False)
    assert "2 failed, 2 passed" in done.stdout, done.stdout + done.stderr
    failed = sorted(line.split("::")[1].split()[0] for line in done.stdout.splitlines() if line.startswith("FAILED"))
    assert failed == ["test_loops_over_no_generated_rows", "test_loops_over_no_rows"]
    assert "test_loops_over_no_rows looped over no rows of SELECT * FROM users WHERE uid = -5" in done.stdout
