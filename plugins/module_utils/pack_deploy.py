# -*- coding: utf-8 -*-
# Copyright: pyosquery.fleet developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pack module's work on the host: check a new pack file with the agent, put it in place, reload.

Order matters: the new text goes to a hidden temporary file beside the target (the agent's glob
`*.conf` never sees it), `pyosqueryctl pack-check` checks it as the agent would load it, and only
then does one rename replace the old file. A failed check leaves the old file as it was. The
reload is a SIGHUP (never a restart); the module then waits until the agent's config_hash
shows that it loaded the change, so the next task finds the query in osquery_schedule.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import tempfile
import time

from ansible_collections.pyosquery.fleet.plugins.module_utils import pack_file
from ansible_collections.pyosquery.fleet.plugins.module_utils.agent_client import AgentClient, AgentError

UNIT = "pyosqueryd"
NOT_RUNNING = 3         # pyosqueryctl reload's exit code when no daemon runs
POLL_S = 0.1


class PackDeployError(Exception):
    """The pack could not be checked, put in place or loaded; the message says which and names the pack."""


def read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write_temp(text, directory, name):
    handle, temp = tempfile.mkstemp(prefix=".%s." % name, suffix=".tmp", dir=directory)   # mode 0600
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    return temp


def pack_check(module, temp, path):
    """Run pyosqueryctl pack-check on `temp` as the pack at `path`; return the agent's warnings."""
    params = module.params
    command = [params["pyosqueryctl"], "--flagfile", params["flagfile"], "pack-check", "--name", params["name"], temp]
    if not os.access(params["pyosqueryctl"], os.X_OK):
        raise PackDeployError("cannot check pack %s: %s is not there (is the agent installed?)"
                              % (params["name"], params["pyosqueryctl"]))
    rc, _out, err = module.run_command(command)
    lines = [line.replace(temp, path) for line in err.splitlines() if line.strip()]
    if rc != 0:
        raise PackDeployError("pack %s failed pyosqueryctl pack-check, %s was left as it was: %s"
                              % (params["name"], path, "; ".join(lines) or "exit code %d" % rc))
    return [line for line in lines if line.startswith("Warning")]


def checked_install(module, text, path):
    """Check `text` as the pack at `path`; unless in check mode, put it there (root's, 0600)."""
    directory = module.tmpdir if module.check_mode else os.path.dirname(path)
    temp = _write_temp(text, directory, module.params["name"])
    try:
        warnings = pack_check(module, temp, path)
        if not module.check_mode:
            if os.geteuid() == 0:
                os.chown(temp, 0, 0)
            os.rename(temp, path)
            _sync_directory(directory)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return warnings


def _sync_directory(directory):
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def signal_reload(module):
    """SIGHUP to the agent: `systemctl reload` where systemd runs its unit, else pyosqueryctl.

    Returns the command that did it, or None when no agent runs (it loads the file when it starts).
    """
    systemctl = module.get_bin_path("systemctl")
    if systemctl and os.path.isdir("/run/systemd/system") and \
            module.run_command([systemctl, "is-active", "--quiet", UNIT])[0] == 0:
        command = [systemctl, "reload", UNIT]
        rc, out, err = module.run_command(command)
    else:
        command = [module.params["pyosqueryctl"], "--flagfile", module.params["flagfile"], "reload"]
        rc, out, err = module.run_command(command)
        if rc == NOT_RUNNING:
            return None
    if rc != 0:
        raise PackDeployError("pack %s is in place but %s failed: %s"
                              % (module.params["name"], " ".join(command), (err or out).strip()))
    return " ".join(command)


def config_hash(params):
    """The running agent's config_hash, or None when its socket does not answer."""
    try:
        with AgentClient.from_params(params) as client:
            return client.query("SELECT config_hash FROM osquery_info")[0]["config_hash"]
    except AgentError:
        return None


def wait_loaded(params, before):
    """Wait until the agent's config_hash moves on from `before`; return the new hash."""
    deadline = time.time() + params["reload_timeout"]
    while True:
        now = config_hash(params)
        if now is not None and now != before:
            return now
        if time.time() >= deadline:
            raise PackDeployError("pack %s is in place and the agent was told to reload, but it did not load a new "
                                  "config within %s s (does its config's packs glob cover %s? is another config "
                                  "file bad? see its status log)"
                                  % (params["name"], params["reload_timeout"], params["packs_dir"]))
        time.sleep(POLL_S)


def reload_and_wait(module, before):
    """Reload the agent; with `before` (its hash before the change), wait for the new config."""
    how = signal_reload(module)
    if how is None:
        module.warn("pyosqueryd is not running: pack %s takes effect when it starts" % module.params["name"])
        return None, None
    if before is None or not module.params["reload_timeout"]:
        if before is None:
            module.warn("the agent's socket did not answer before the change, so the module could not wait for "
                        "the reload (pack %s)" % module.params["name"])
        return how, None
    return how, wait_loaded(module.params, before)


def apply(module):
    """Do what the task asks; return the module's result."""
    params = module.params
    pack_file.check_params(params)
    path = os.path.join(params["packs_dir"], params["name"] + ".conf")
    before_text = read_text(path)
    current = None if before_text is None else pack_file.parse(before_text, path)
    wanted = pack_file.desired(current, params)
    after_text = None if wanted is None else pack_file.render(wanted)
    result = dict(changed=wanted != current, path=path, pack=wanted, reload=None, config_hash=None,
                  diff=dict(before=before_text or "", after=after_text or "", before_header=path, after_header=path))
    if result["changed"]:
        _change(module, path, after_text, result)
    elif after_text is not None:
        result["changed"] = _fix_attributes(module, path)
    return result


def _change(module, path, text, result):
    before = config_hash(module.params) if module.params["reload"] and not module.check_mode else None
    if text is not None:
        if not os.path.isdir(module.params["packs_dir"]) and not module.check_mode:
            os.makedirs(module.params["packs_dir"], 0o700)
        for warning in checked_install(module, text, path):
            module.warn(warning)
    elif not module.check_mode:
        os.unlink(path)
    if module.params["reload"] and not module.check_mode:
        result["reload"], result["config_hash"] = reload_and_wait(module, before)


def _fix_attributes(module, path):
    changed = module.set_owner_if_different(path, "root", False)
    changed = module.set_group_if_different(path, "root", changed)
    return module.set_mode_if_different(path, "0600", changed)
