"""Let ansible-test build its sanity venvs without its CI file host (unreachable here).

ansible-test bootstraps pip into each venv it makes with a get-pip script that it downloads
once, unless ~/.ansible/test/cache/get_pip_<X_Y>.py exists, <X.Y> being the pip version the
installed ansible-test pins. This writes a stand-in under that name: it bootstraps pip with
the venv's own ensurepip, then installs the pinned pip (and whatever else ansible-test asks
for) from the package index. Run it with the Python that has ansible-test installed.
"""

import importlib.util
import os
import re
import sys

STANDIN = '''"""Offline stand-in for ansible-test's get-pip bootstrap (written by {writer})."""
import subprocess
import sys

ARGS = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                      stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *ARGS])
'''


def pinned_pip_version():
    """Return the pip version that the installed ansible-test bootstraps into its venvs."""
    spec = importlib.util.find_spec("ansible_test")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("ansible_test_offline: ansible-test is not installed for " + sys.executable)
    source = os.path.join(spec.submodule_search_locations[0], "_internal", "python_requirements.py")
    with open(source, encoding="utf-8") as handle:
        match = re.search(r"default_packages = dict\(\s*pip='([0-9][0-9.]*)'", handle.read())
    if not match:
        raise SystemExit("ansible_test_offline: no pinned pip version found in " + source)
    return match.group(1)


def main():
    """Write the stand-in where ansible-test looks for its cached get-pip script."""
    version = pinned_pip_version()
    cache = os.path.expanduser("~/.ansible/test/cache")
    path = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
    text = STANDIN.format(writer="tests/tools/ansible_test_offline.py")
    os.makedirs(cache, exist_ok=True)
    current = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            current = handle.read()
    if current != text:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    print("ansible-test get-pip stand-in: %s (pip %s)" % (path, version))


if __name__ == "__main__":
    main()
