"""Add the agent's entries to a copy's sanity ignore file (run by `make sanity`).

ansible-test's pylint configuration for collections is written for Ansible plugin code; one of
its rules, disallowed-name (`_`, `foo`, ...), does not fit the agent, a standalone Python
package shipped under files/agent (with its tests and benchmarks). ansible-test accepts
ignores only file by file and reports an entry that is no longer needed, while the agent's
files change all the time; so this reads `ansible-test sanity --test pylint --lint` output (a
pass run without the ignore file) on stdin and rewrites the ignore file named on the command
line (in the build copy, never the work tree): its entries of RULES for files under AGENT_PATHS
become exactly the files that pylint flagged; every other line is kept as is.
"""

import os
import re
import sys

AGENT_PATHS = ("files/agent/", "tests/agent/", "benchmarks/")

# ignore code -> the reason written next to each entry
RULES = {
    "pylint:disallowed-name": "agent code, not an Ansible plugin: `_` and `foo` are ordinary names there",
}

LINT_LINE = re.compile(r"^(?P<path>[^:\s]+):\d+:\d+: (?P<code>[a-z0-9-]+): ")


def generated(path, code):
    """True for an entry that this script owns."""
    return path.startswith(AGENT_PATHS) and code in RULES


def main(argv):
    """Rewrite the ignore file given as the only argument from the lint output on stdin."""
    if len(argv) != 2:
        raise SystemExit("usage: ansible-test sanity --test pylint --lint | %s IGNORE_FILE" % argv[0])
    ignore_file = argv[1]

    found = set()
    for line in sys.stdin:
        match = LINT_LINE.match(line)
        if match:
            path, code = match.group("path"), "pylint:" + match.group("code")
            if generated(path, code):
                found.add((path, code))

    kept = []
    if os.path.exists(ignore_file):
        with open(ignore_file, encoding="utf-8") as handle:
            for line in handle.read().splitlines():
                fields = line.split("#", 1)[0].split()
                if len(fields) == 2 and generated(fields[0], fields[1]):
                    continue
                kept.append(line)

    lines = kept + ["%s %s  # %s" % (path, code, RULES[code]) for path, code in sorted(found)]
    if lines:
        os.makedirs(os.path.dirname(ignore_file) or ".", exist_ok=True)
        with open(ignore_file, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    elif os.path.exists(ignore_file):
        os.remove(ignore_file)
    print("sanity: %d agent files exempt from pylint disallowed-name; ignores in %s" % (len(found), ignore_file))


if __name__ == "__main__":
    main(sys.argv)
