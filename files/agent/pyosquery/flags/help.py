"""`--help` for every command: the flags by class, laid out as osquery prints them."""

from pyosquery.flags.definitions import CLI, DEFINITIONS, FLAG, SHELL

_SECTIONS = (
    (CLI, "command line flags"),
    (FLAG, "configuration options (set by config or CLI flags)"),
    (SHELL, "shell-only CLI flags"),
)


def _left(flag):
    if flag.name == "flagfile":
        return "--flagfile PATH"
    return "--%s%s" % (flag.name, "" if flag.type == "bool" else " VALUE")


def help_text(program, version, usage, shell=False):
    """The help text: hidden flags are left out, and shell flags unless `shell`."""
    kinds = [kind for kind, _ in _SECTIONS if shell or kind != SHELL]
    shown = [flag for flag in DEFINITIONS.values() if flag.kind in kinds]
    width = max(len(_left(flag)) for flag in shown) + 2
    lines = ["%s %s, your OS as a high-performance relational database" % (program, version),
             "Usage: %s %s" % (program, usage)]
    for kind, title in _SECTIONS:
        if kind not in kinds:
            continue
        lines += ["", "%s %s:" % (program, title), ""]
        # osquery lists --flagfile first, then the rest by name
        ordered = sorted((f for f in shown if f.kind == kind), key=lambda f: (f.name != "flagfile", f.name))
        lines += ["    %s%s" % (_left(flag).ljust(width), flag.description) for flag in ordered]
    return "\n".join(lines) + "\n"
