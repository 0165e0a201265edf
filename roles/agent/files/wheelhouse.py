# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the agent's wheelhouse on the controller: the role runs this once per play, delegated to localhost.

    python wheelhouse.py --source DIR --cache DIR TARGET...      TARGET = <python X.Y>-<arch>-<glibc X.Y>

For each target (one per distinct host Python, architecture and C library in the play) it writes
a tar of wheels: the agent built from DIR, its dependencies with the `extensions` extra, and pip
itself (hosts need no pip of their own). Hosts then install with `pip --no-index`.

Binary dependencies come from the index as manylinux wheels for the host's Python, architecture and
glibc (`pip download --only-binary=:all:`). A dependency published only as an sdist (thrift has no
wheels for Python 3.9) is built here: with this machine's pythonX.Y when there is one for the same
architecture and a glibc no newer than the host's, else as a pure-Python wheel with compilers
disabled (thrift then drops its optional C accelerator). When neither works, the target fails with
a message naming the package. Tars are cached under --cache, keyed by agent version, a digest of
the agent's source, and the target, so a rerun costs one digest of the source.

Prints one JSON object: {"changed": bool, "release": "<version>+<digest>", "wheelhouses": {TARGET:
{"path": tar, "pip": "<pip wheel file name>"}}, "built": [TARGET...], "notes": [...]}. Exit 1 with a
message on stderr when a target cannot be built.
"""

from __future__ import absolute_import, division, print_function

import argparse
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:   # a controller Python without packaging still has pip's copy
    from pip._vendor.packaging.requirements import Requirement   # pylint: disable=ungrouped-imports
    from pip._vendor.packaging.utils import canonicalize_name

AGENT = "pyosquery"
EXTRAS = ("extensions",)
REQUIREMENT = AGENT + "[" + ",".join(EXTRAS) + "]==%s"
SOURCE_PARTS = ("pyproject.toml", "README.md", "pyosquery")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "dist", "*.egg-info")
# pip prints these for every package when its configuration names a local index that is missing
PIP_NOISE = ("is ignored: it is neither a file nor a directory",)
MISSING = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+)")
TARGET = re.compile(r"^(3)\.(\d+)-([A-Za-z0-9_]+)-(\d+)\.(\d+)$")
UNUSED_DAYS = 30


class BuildError(Exception):
    """A target cannot be built; the message says which and why."""


def source_version(source):
    """The agent's version from its pyproject.toml ([project] version)."""
    with open(os.path.join(source, "pyproject.toml"), encoding="utf-8") as handle:
        match = re.search(r'^\[project\][^\[]*?^version\s*=\s*"([^"]+)"', handle.read(), re.M | re.S)
    if not match:
        raise BuildError("%s/pyproject.toml: no [project] version" % source)
    return match.group(1)


def source_files(source):
    for part in SOURCE_PARTS:
        path = os.path.join(source, part)
        if os.path.isfile(path):
            yield part
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if not name.endswith(".pyc"):
                    yield os.path.relpath(os.path.join(root, name), source)


def source_digest(source):
    """12 hex digits over the agent's files: a changed agent gets a new wheelhouse even at the same version."""
    digest = hashlib.sha256()
    for relative in source_files(source):
        digest.update(relative.encode() + b"\0")
        with open(os.path.join(source, relative), "rb") as handle:
            digest.update(handle.read() + b"\0")
    return digest.hexdigest()[:12]


def parse_target(text):
    """'3.11-x86_64-2.36' -> ('3.11', 'x86_64', (2, 36))."""
    match = TARGET.match(text)
    if not match:
        raise BuildError("target %r: expected <python X.Y>-<arch>-<glibc X.Y>, e.g. 3.11-x86_64-2.36" % text)
    major, minor, arch, glibc_major, glibc_minor = match.groups()
    return "%s.%s" % (major, minor), arch, (int(glibc_major), int(glibc_minor))


def platforms(arch, glibc):
    """Every manylinux tag a host with this glibc accepts, newest first, plus plain linux for local builds."""
    tags = ["manylinux_%d_%d_%s" % (glibc[0], minor, arch) for minor in range(glibc[1], 4, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    tags += ["%s_%s" % (name, arch) for minor, name in sorted(legacy.items(), reverse=True) if minor <= glibc[1]]
    return tags + ["linux_%s" % arch]


def quiet(text):
    return "\n".join(line for line in text.splitlines() if not any(noise in line for noise in PIP_NOISE))


def pip(python, args, env=None):
    """Run `python -m pip ARGS`; the completed process (stderr without pip's configuration noise)."""
    full_env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", **(env or {}))
    result = subprocess.run([python, "-m", "pip"] + args, capture_output=True, text=True, env=full_env, check=False)
    result.stderr = quiet(result.stderr)
    return result


def build_agent(python, source, out):
    """The agent's wheel (pure Python), built from a copy so the source tree stays clean."""
    with tempfile.TemporaryDirectory(prefix="pyosquery-src-") as copy:
        for part in SOURCE_PARTS:
            path = os.path.join(source, part)
            if os.path.isdir(path):
                shutil.copytree(path, os.path.join(copy, part), ignore=SKIPPED)
            elif os.path.isfile(path):
                shutil.copy(path, copy)
        result = pip(python, ["wheel", "--no-deps", "--quiet", "--wheel-dir", out, copy])
    if result.returncode != 0:
        raise BuildError("building the agent's wheel from %s failed:\n%s" % (source, result.stderr.strip()))


def download(python, version, target, dest, links):
    """pip download of the agent's dependencies and pip, as wheels for the target only."""
    py, arch, glibc = target
    abi = "cp" + py.replace(".", "")
    args = ["download", "--quiet", "--only-binary=:all:", "--dest", dest, "--python-version", py,
            "--implementation", "cp", "--abi", abi, "--abi", "abi3", "--abi", "none"]
    for tag in platforms(arch, glibc):
        args += ["--platform", tag]
    for link in links:
        args += ["--find-links", link]
    return pip(python, args + [REQUIREMENT % version, "pip"])


def runs_as(path, py):
    """True when `path` is a working Python X.Y (pyenv's shims exist for versions that are not active)."""
    try:
        result = subprocess.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == py


def matching_python(py, arch, glibc):
    """This machine's pythonX.Y when its wheels would run on the host (same arch, glibc not newer)."""
    if platform.machine() != arch:
        return None
    ours = tuple(int(part) for part in (platform.libc_ver()[1] or "0.0").split(".")[:2])
    if ours > glibc:
        return None
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/%s.*/bin/python%s" % (py, py))), reverse=True)
    candidates += [shutil.which("python" + py)]
    return next((path for path in candidates if path and runs_as(path, py)), None)


def build_sdist(python, name, target, out, notes):
    """A wheel for `name` (published as an sdist only): a matching interpreter's, else a pure one."""
    py, arch, glibc = target
    with tempfile.TemporaryDirectory(prefix="pyosquery-sdist-") as work:
        fetched = pip(python, ["download", "--quiet", "--no-deps", "--no-binary=:all:", "--python-version", py,
                               "--dest", work, name])
        sdists = glob.glob(os.path.join(work, "*"))
        if fetched.returncode != 0 or not sdists:
            raise BuildError("%s: no wheel and no sdist for Python %s:\n%s" % (name, py, fetched.stderr.strip()))
        local = matching_python(py, arch, glibc)
        if local:
            result = pip(local, ["wheel", "--no-deps", "--quiet", "--wheel-dir", out, sdists[0]])
            how = "built with %s" % local
        else:
            # a failing compiler makes setuptools' optional extensions fall back to pure Python
            result = pip(python, ["wheel", "--no-deps", "--quiet", "--wheel-dir", out, sdists[0]],
                         env={"CC": "false", "CXX": "false"})
            how = "built as pure Python (no python%s for %s on this machine)" % (py, arch)
    wheels = [path for path in glob.glob(os.path.join(out, "*.whl")) if os.path.basename(path).lower().startswith(
        name.lower().replace("-", "_") + "-")]
    if result.returncode != 0 or not wheels:
        raise BuildError("%s for Python %s on %s: no wheel on the index and the sdist did not build (%s):\n%s" % (
            name, py, arch, how, result.stderr.strip()))
    if not local and not wheels[0].endswith("-none-any.whl"):
        raise BuildError("%s for Python %s on %s: the sdist only builds with its C extension, which needs a "
                         "python%s on this machine for %s" % (name, py, arch, py, arch))
    notes.append("%s for Python %s on %s: %s" % (name, py, arch, how))


def marker_environment(target):
    """Environment markers as the host's Python evaluates them (pip download uses the controller's)."""
    py, arch, _glibc = target
    return {"python_version": py, "python_full_version": py + ".0", "implementation_name": "cpython",
            "implementation_version": py + ".0", "platform_python_implementation": "CPython",
            "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": arch,
            "platform_release": "", "platform_version": ""}


def wheel_metadata(path):
    """(canonical name, [Requires-Dist lines]) from a wheel's METADATA."""
    with zipfile.ZipFile(path) as wheel:
        name = next(item for item in wheel.namelist() if re.match(r"^[^/]+\.dist-info/METADATA$", item))
        text = wheel.read(name).decode("utf-8")
    return (canonicalize_name(re.search(r"^Name: *(.+)$", text, re.M).group(1).strip()),
            re.findall(r"^Requires-Dist: *(.+)$", text, re.M))


def wanted(requirement, extras, environment):
    """Does the host need this Requires-Dist, given the extras asked of the package that lists it?"""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate(dict(environment, extra=extra)) for extra in (extras or {""}))


def missing_requirements(dest, target):
    """Requirements the host needs that pip download left out, walking from the agent with its extras.

    pip evaluates markers such as `python_version < "3.13"` with the controller's Python, not the
    target's, so a host on an older Python would lack typing-extensions and the like.
    """
    environment = marker_environment(target)
    present = dict(wheel_metadata(path) for path in glob.glob(os.path.join(dest, "*.whl")))
    asked, queue, missing = {}, [(AGENT, set(EXTRAS))], []
    while queue:
        name, extras = queue.pop()
        if name in asked and extras <= asked[name]:
            continue
        asked[name] = asked.get(name, set()) | extras
        for line in present[name]:
            requirement = Requirement(line)
            if not wanted(requirement, extras, environment):
                continue
            dependency = canonicalize_name(requirement.name)
            if dependency in present:
                queue.append((dependency, set(requirement.extras)))
            else:
                requirement.marker = None
                missing.append(str(requirement))
    return sorted(set(missing))


def download_missing(python, target, dest, links, requirements):
    """The requirements pip left out, one by one without their own dependencies (the next walk finds those)."""
    py, arch, glibc = target
    args = ["download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", dest, "--python-version", py,
            "--implementation", "cp", "--abi", "cp" + py.replace(".", ""), "--abi", "abi3", "--abi", "none"]
    for tag in platforms(arch, glibc):
        args += ["--platform", tag]
    for link in links:
        args += ["--find-links", link]
    return pip(python, args + requirements)


def resolve(python, version, target, agent_dir, dest, notes):
    """Download every wheel; build each dependency that has none (sdist only), then retry."""
    built = tempfile.mkdtemp(prefix="pyosquery-built-", dir=os.path.dirname(dest))
    try:
        tried = set()
        while True:
            result = download(python, version, target, dest, [agent_dir, built])
            if result.returncode == 0:
                result = complete(python, target, dest, [agent_dir, built])
            if result.returncode == 0:
                return
            missing = MISSING.search(result.stderr)
            name = missing.group(1).split("[")[0] if missing else None
            if not name or name in tried or name.lower() == AGENT:
                raise BuildError("pip download for Python %s on %s failed:\n%s"
                                 % (target[0], target[1], result.stderr.strip()))
            tried.add(name)
            build_sdist(python, name, target, built, notes)
    finally:
        shutil.rmtree(built, ignore_errors=True)


def complete(python, target, dest, links):
    """Download what the target's markers add, until nothing is missing; the last pip result."""
    result = subprocess.CompletedProcess([], 0, "", "")
    for _round in range(10):
        requirements = missing_requirements(dest, target)
        if not requirements:
            return result
        result = download_missing(python, target, dest, links, requirements)
        if result.returncode != 0:
            return result
    raise BuildError("the dependencies for Python %s on %s do not settle: %s" % (target[0], target[1], requirements))


def write_tar(wheels_dir, path):
    """The wheels as one uncompressed tar (wheels are compressed already), written then renamed."""
    partial = "%s.%d.partial" % (path, os.getpid())
    with tarfile.open(partial, "w") as tar:
        for name in sorted(os.listdir(wheels_dir)):
            tar.add(os.path.join(wheels_dir, name), arcname=name)
    os.replace(partial, path)


def pip_wheel_name(path):
    with tarfile.open(path) as tar:
        names = [name for name in tar.getnames() if re.match(r"^pip-[0-9][^-]*-py3-none-any\.whl$", name)]
    if not names:
        raise BuildError("%s: no pip wheel inside; remove the file and run again" % path)
    return names[0]


def prune(cache):
    """Tars unused for UNUSED_DAYS days go (each use touches its tar)."""
    limit = time.time() - UNUSED_DAYS * 86400
    for path in glob.glob(os.path.join(cache, "*.tar")):
        if os.path.getmtime(path) < limit:
            os.unlink(path)


def build(python, source, cache, targets):
    version, digest = source_version(source), source_digest(source)
    release = "%s+%s" % (version, digest)
    os.makedirs(cache, exist_ok=True)
    output = {"changed": False, "release": release, "wheelhouses": {}, "built": [], "notes": []}
    agent_dir = None
    try:
        for text in sorted(set(targets)):
            target = parse_target(text)
            path = os.path.join(cache, "pyosquery-%s-py%s-%s-glibc%d.%d.tar" % ((release,) + target[:2] + target[2]))
            if not os.path.exists(path):
                if agent_dir is None:
                    agent_dir = tempfile.mkdtemp(prefix=".agent-", dir=cache)
                    build_agent(python, source, agent_dir)
                wheels = tempfile.mkdtemp(prefix=".wheels-", dir=cache)
                try:
                    resolve(python, version, target, agent_dir, wheels, output["notes"])
                    write_tar(wheels, path)
                finally:
                    shutil.rmtree(wheels, ignore_errors=True)
                output["changed"] = True
                output["built"].append(text)
            os.utime(path)
            output["wheelhouses"][text] = {"path": path, "pip": pip_wheel_name(path)}
    finally:
        if agent_dir:
            shutil.rmtree(agent_dir, ignore_errors=True)
    prune(cache)
    return output


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build the agent's wheelhouse for each host target.")
    parser.add_argument("--source", required=True, help="the agent's source tree (with pyproject.toml)")
    parser.add_argument("--cache", required=True, help="where the wheelhouse tars are kept")
    parser.add_argument("--python", default=sys.executable, help="the Python whose pip downloads and builds")
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="<python X.Y>-<arch>-<glibc X.Y>")
    args = parser.parse_args(argv)
    try:
        output = build(args.python, os.path.abspath(args.source), os.path.expanduser(args.cache), args.targets)
    except (BuildError, OSError) as error:
        sys.stderr.write("wheelhouse: %s\n" % error)
        return 1
    print(json.dumps(output, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
