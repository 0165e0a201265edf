"""Taking the kernel's audit socket, configuring it, and giving everything back.

The kernel state outlives us: a worker killed with SIGKILL leaves its rules and settings
behind. A small state file (in /run: it lives as long as the kernel state) records what we
changed, so the next worker adopts it and gives it back on its own exit.
"""

import errno
import json
import logging
import os

from pyosquery.events.audit import netlink, rules

LOG = logging.getLogger("pyosquery.events")
STATE_PATH = "/run/pyosquery/audit-state.json"
RESTORED = ("enabled", "backlog_limit", "backlog_wait_time")
ENABLED, IMMUTABLE = 1, 2


class TakeError(Exception):
    """We could not become the audit receiver; the message says why and what to do."""


def process_name(pid):
    try:
        with open("/proc/%d/comm" % pid, encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return "exited"


def holder_message(pid):
    return ("the audit netlink socket is held by pid %d (%s): the kernel sends audit records to one "
            "process only; stop it (auditd: systemctl stop auditd) or keep --disable_audit=true"
            % (pid, process_name(pid)))


class Control:
    """What this process changed in the kernel's audit state, and how to undo it."""

    def __init__(self, sock, values, state_path=STATE_PATH):
        self.sock, self.values, self.state_path = sock, values, state_path
        self.pid = os.getpid()
        self.holding = False
        self.original = {}     # settings to restore (only those we changed)
        self.owned = []        # rules we added (or adopted from a killed predecessor)
        self.warnings = []
        self.saved = False     # the state file is ours to remove (not another live holder's)

    def take(self):
        """Register as the audit receiver; TakeError naming the holder when another has it."""
        try:
            self.sock.set_status(pid=self.pid)
        except netlink.AuditError as exc:
            if exc.errno == errno.EEXIST:
                raise TakeError(holder_message(self.sock.status()["pid"])) from None
            raise TakeError("cannot register as the audit receiver: %s" % exc) from None
        self.holding = True

    def configure(self):
        """With --audit_allow_config: enable audit, set the backlog, add the wanted rules."""
        status = self.sock.status()
        leftover = self._read_state()
        if not self.values.audit_allow_config:
            if status["enabled"] == 0:
                raise TakeError("audit is disabled in the kernel (enabled=0) and --audit_allow_config "
                                "is false: pyosquery may not enable it")
            return
        if status["enabled"] == IMMUTABLE:
            self.warnings.append("audit configuration is locked (enabled=2, auditctl -e 2): "
                                 "using the rules already in the kernel")
            return
        before = leftover.get("original") or {name: status[name] for name in RESTORED}
        self.original = before
        self._save_state()  # before changing anything: a kill from here on is recoverable
        self.sock.set_status(enabled=ENABLED, backlog_limit=self.values.audit_backlog_limit,
                             backlog_wait_time=self.values.audit_backlog_wait_time)
        adopted = set(leftover.get("rules", ()))
        wanted = rules.wanted_rules(self.values)
        for rule in wanted:
            self._add(rule, adopted)
            self._save_state()
        for data in adopted - {rule.data.hex() for rule in wanted}:
            # a predecessor's rule the flags no longer want
            self._quietly(self.sock.delete_rule, bytes.fromhex(data), "left by pid %s" % leftover["pid"])

    def _add(self, rule, adopted):
        try:
            self.sock.add_rule(rule.data, str(rule))
        except netlink.AuditError as exc:
            if exc.errno != errno.EEXIST:
                self.warnings.append("%s; some audit tables may stay empty" % exc)
                return
            # already there: ours only if a killed predecessor added it (or we are told to clear it)
            if rule.data.hex() not in adopted and not self.values.audit_force_unconfigure:
                return
        self.owned.append(rule)

    def give_back(self):
        """Delete our rules, restore the settings we changed, unregister. Never raises."""
        for rule in self.owned:
            self._quietly(self.sock.delete_rule, rule.data, str(rule))
        self.owned = []
        if self.original:
            self._quietly(self.sock.set_status, **self.original)
            self.original = {}
        if self.holding:
            self._quietly(self.sock.set_status, pid=0)
            self.holding = False
        if self.saved:
            try:
                os.unlink(self.state_path)
            except OSError:
                pass
            self.saved = False

    @staticmethod
    def _quietly(action, *args, **kwargs):
        try:
            action(*args, **kwargs)
        except OSError as exc:
            LOG.warning("auditeventpublisher: giving the audit state back: %s", exc)

    def _read_state(self):
        """What a predecessor left (it did not give back: killed); {} when it exited cleanly."""
        try:
            with open(self.state_path, encoding="utf-8") as handle:
                state = json.load(handle)
        except (OSError, ValueError):
            return {}
        if state.get("pid") != self.pid and os.path.exists("/proc/%s" % state.get("pid")):
            return {}  # alive: it still owns what it lists (we hold the socket though: unusual)
        LOG.warning("auditeventpublisher: adopting the audit rules and settings pid %s left behind "
                    "(killed before it could give them back)", state.get("pid"))
        return state

    def _save_state(self):
        state = {"pid": self.pid, "original": self.original,
                 "rules": [rule.data.hex() for rule in self.owned]}
        try:
            os.makedirs(os.path.dirname(self.state_path), exist_ok=True)
            with open(self.state_path + ".tmp", "w", encoding="utf-8") as handle:
                json.dump(state, handle)
            os.replace(self.state_path + ".tmp", self.state_path)
            self.saved = True
        except OSError as exc:
            self.warnings.append("cannot record the audit state in %s (%s): after a kill the next "
                                 "start cannot clean up" % (self.state_path, exc.strerror))
