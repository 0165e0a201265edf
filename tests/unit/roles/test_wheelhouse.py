"""roles/agent/files/wheelhouse.py: the controller-side wheelhouse for each host target."""

import glob
import json
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(ROOT, "roles", "agent", "files", "wheelhouse.py")
AGENT = os.path.join(ROOT, "files", "agent")
sys.path.insert(0, os.path.dirname(SCRIPT))
import wheelhouse  # noqa: E402  pylint: disable=wrong-import-position,import-error

PYTHON39 = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9.*/bin/python3.9")))


def write_wheel(directory, name, requires):
    path = os.path.join(directory, "%s-1.0-py3-none-any.whl" % name)
    metadata = "Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name
    metadata += "".join("Requires-Dist: %s\n" % line for line in requires)
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("%s-1.0.dist-info/METADATA" % name, metadata)
    return path


def test_targets_are_python_arch_and_glibc():
    assert wheelhouse.parse_target("3.11-x86_64-2.36") == ("3.11", "x86_64", (2, 36))
    with pytest.raises(wheelhouse.BuildError, match="expected <python X.Y>-<arch>-<glibc X.Y>"):
        wheelhouse.parse_target("3.11-x86_64")


def test_platforms_are_every_manylinux_the_host_glibc_accepts():
    tags = wheelhouse.platforms("aarch64", (2, 28))
    assert tags[0] == "manylinux_2_28_aarch64" and "manylinux_2_17_aarch64" in tags
    assert "manylinux2014_aarch64" in tags and tags[-1] == "linux_aarch64"
    assert "manylinux_2_29_aarch64" not in tags and not any("x86_64" in tag for tag in tags)


def test_missing_requirements_follow_the_hosts_markers_not_the_controllers(tmp_path):
    write_wheel(str(tmp_path), "pyosquery", ["apsw>=3", "osquery; extra == 'extensions'", "legacy; extra == 'other'"])
    write_wheel(str(tmp_path), "apsw",
                ["typing-extensions>=4; python_version < '3.13'", "armonly; platform_machine == 'aarch64'"])
    old_host = wheelhouse.missing_requirements(str(tmp_path), ("3.9", "x86_64", (2, 36)))
    assert old_host == ["osquery", "typing-extensions>=4"]
    new_arm_host = wheelhouse.missing_requirements(str(tmp_path), ("3.13", "aarch64", (2, 36)))
    assert new_arm_host == ["armonly", "osquery"]


def test_the_source_digest_follows_the_agents_files_only(tmp_path):
    source = tmp_path / "agent"
    (source / "pyosquery" / "__pycache__").mkdir(parents=True)
    (source / "pyproject.toml").write_text('[project]\nname = "pyosquery"\nversion = "9.9"\n')
    (source / "pyosquery" / "__init__.py").write_text("")
    first = wheelhouse.source_digest(str(source))
    (source / "pyosquery" / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert wheelhouse.source_digest(str(source)) == first
    (source / "pyosquery" / "__init__.py").write_text("# changed")
    assert wheelhouse.source_digest(str(source)) != first
    assert wheelhouse.source_version(str(source)) == "9.9"


def build(cache, *targets, env=None):
    result = subprocess.run([sys.executable, SCRIPT, "--source", AGENT, "--cache", str(cache)] + list(targets),
                            capture_output=True, text=True, env=env, check=False, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not PYTHON39, reason="needs a Python 3.9 (pyenv) to install the wheelhouse into")
def test_a_python_39_host_without_an_index_installs_the_agent_from_a_pure_thrift(tmp_path):
    # No python3.9 reachable for the build (PATH and HOME without pyenv): thrift, which has no
    # wheel for 3.9 on the index, must come out as a pure-Python wheel.
    env = dict(os.environ, HOME=str(tmp_path / "home"), PATH="/usr/bin:/bin")
    built = build(tmp_path / "cache", "3.9-x86_64-2.17", env=env)
    wheelhouse_tar = built["wheelhouses"]["3.9-x86_64-2.17"]["path"]
    assert built["changed"] and any("thrift for Python 3.9 on x86_64: built as pure Python" in note
                                    for note in built["notes"])
    with tarfile.open(wheelhouse_tar) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "wheels", filter="data")
    assert any(name.startswith("thrift-") and name.endswith("-py3-none-any.whl") for name in names)
    assert any(name.startswith("typing_extensions-") for name in names)      # a marker the controller's Python skips
    assert build(tmp_path / "cache", "3.9-x86_64-2.17", env=env)["changed"] is False

    # the host's side: a venv without pip, pip run from its wheel, no index, no pip configuration
    venv = tmp_path / "venv"
    subprocess.run([PYTHON39[-1], "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = tmp_path / "wheels" / built["wheelhouses"]["3.9-x86_64-2.17"]["pip"] / "pip"
    subprocess.run([str(venv / "bin" / "python"), str(pip), "install", "--quiet", "--no-index", "--find-links",
                    str(tmp_path / "wheels"), "pyosquery[extensions]==0.1.0"],
                   check=True, env=dict(os.environ, PIP_CONFIG_FILE=os.devnull), timeout=600)
    version = subprocess.run([str(venv / "bin" / "pyosqueryd"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == "pyosqueryd version 0.1.0"
    subprocess.run([str(venv / "bin" / "python"), "-c", "import osquery, thrift.protocol.TBinaryProtocol, apsw"],
                   check=True)
