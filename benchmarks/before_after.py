"""The file-listing and socket ratios of two agent source trees, alternated round by round.

    .venv/bin/python benchmarks/before_after.py BEFORE_AGENT_DIR AFTER_AGENT_DIR [ROUNDS]

e.g. main's agent unpacked with `git archive main files/agent | tar -x -C /tmp/before`, then
/tmp/before/files/agent and files/agent. Each round runs one process per tree, in turn, with that
tree first on PYTHONPATH (its daemon too) and this directory's bench code: one interleaved round
of the /usr listing against find, and 5 of 20k rows over the socket against the same query run
locally. Prints each tree's ratios, wall and CPU, as median (min-max) and the load average. Not run by `make bench`.
"""

import json
import os
import subprocess
import sys

from timing import ratio_text

HERE = os.path.dirname(os.path.abspath(__file__))
MEASURE = """
import json, sys
sys.path.insert(0, %r)
from bench_engine import file_rounds, socket_rounds
from pyosquery.sql.engine import Engine
engine = Engine()
figures = {"file": file_rounds(engine, 1), "socket": socket_rounds(engine, 5)}
print(json.dumps({name + " " + kind: ratios for name, result in figures.items()
                  for kind, (_ours, _peer, ratios) in result.items()}))
""" % HERE


def measure(tree):
    env = dict(os.environ, PYTHONPATH=tree)
    done = subprocess.run([sys.executable, "-c", MEASURE], env=env, stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def main():
    trees = {"before": sys.argv[1], "after": sys.argv[2]}
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    ratios = {}
    loads = []
    for _round in range(rounds):
        for name, tree in trees.items():
            for kind, values in measure(tree).items():
                ratios.setdefault((kind, name), []).extend(values)
            loads.append(os.getloadavg()[0])
    for (kind, name), values in sorted(ratios.items()):
        print("%-12s %-6s %s over %d runs" % (kind, name, ratio_text(values), len(values)))
    print("load average (1 min) during the runs: %.1f-%.1f" % (min(loads), max(loads)))


if __name__ == "__main__":
    main()
