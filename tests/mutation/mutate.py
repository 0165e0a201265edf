"""Mutation testing, module by module, with cosmic-ray: `make mutate [MODULE=name]`.

For each module of tests/mutation/modules.toml: a cosmic-ray session in .build/mutate/<name>.sqlite
(kept, see prepare), the operators cut down as PIT's defaults (KEPT below), a baseline run, then
every mutant against the module's own test files only (pytest -x, the module's timeout; cosmic-ray
runs them without writing .pyc files, so a mutant never reuses another's). The report counts
killed, survived and equivalent mutants (tests/mutation/equivalent.tsv, each with its reason),
lists the survivors with their diffs, and rewrites the module's row of the table in tests/README.md.
"""

import argparse
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.join(ROOT, ".venv", "bin")
STATE = os.path.join(ROOT, ".build", "mutate")
EQUIVALENT = os.path.join(HERE, "equivalent.tsv")
README = os.path.join(ROOT, "tests", "README.md")
BEGIN, END = "<!-- mutate:begin -->", "<!-- mutate:end -->"
SAMPLED_OUT = "sampled out"

# cosmic-ray replaces each binary operator with every other one and each comparison with every
# other one (1059 mutants in the 189 lines of stats.py, most of them killed by a TypeError). Kept,
# as PIT's default mutators do: arithmetic to its inverse (+ -, * /, // /, % *, ** *), bitwise
# and shifts to their partner, comparisons to their boundary (< <=, > >=) and their negation
# (== !=, < >=, > <=, is / is not, in / not in); every other operator of cosmic-ray's is kept whole.
KEPT = ("Add_Sub Sub_Add Mul_Div Div_Mul FloorDiv_Div Mod_Mul Pow_Mul BitOr_BitAnd BitAnd_BitOr "
        "BitXor_BitOr LShift_RShift RShift_LShift "
        "Lt_LtE Lt_GtE LtE_Lt LtE_Gt Gt_GtE Gt_LtE GtE_Gt GtE_Lt Eq_NotEq NotEq_Eq Is_IsNot IsNot_Is "
        "In_NotIn NotIn_In").split()
EXCLUDED = ["core/Replace(BinaryOperator|ComparisonOperator)_(?!(%s)$)" % "|".join(KEPT)]


def modules():
    with open(os.path.join(HERE, "modules.toml"), "rb") as handle:
        return tomllib.load(handle)


def source_files(spec):
    for path in spec["sources"]:
        full = os.path.join(ROOT, path)
        if os.path.isdir(full):
            for name in sorted(os.listdir(full)):
                if name.endswith(".py"):
                    yield os.path.join(path, name)
        else:
            yield path


def fingerprint(paths, text=""):
    digest = hashlib.sha256(text.encode())
    for path in paths:
        for name in sorted(_files(os.path.join(ROOT, path))):
            with open(name, "rb") as handle:
                digest.update(name.encode() + handle.read())
    return digest.hexdigest()


def _files(path):
    if os.path.isfile(path):
        return [path]
    return [os.path.join(top, name) for top, _dirs, names in os.walk(path) for name in names if name.endswith(".py")]


def cosmic_ray_config(spec):
    tests = " ".join(spec["tests"])
    return "\n".join([
        "[cosmic-ray]",
        "module-path = %s" % json.dumps(list(source_files(spec))),
        "timeout = %s" % float(spec.get("timeout", 60)),
        "excluded-modules = []",
        'test-command = "%s/pytest -x -q -p no:cacheprovider -p no:randomly %s"' % (BIN, tests),
        "[cosmic-ray.distributor]",
        'name = "local"',
        "[cosmic-ray.filters.operators-filter]",
        "exclude-operators = %s" % json.dumps(EXCLUDED),
        "",
    ])


def run(*command):
    subprocess.run(command, cwd=ROOT, check=True)


def sample(session, keep):
    """Leave `keep` of the pending mutants, chosen at random, and set the others aside ("sampled
    out": neither run nor counted) so a slow module can be measured on a random sample."""
    with sqlite3.connect(session) as db:
        pending = [job for (job,) in db.execute(
            "SELECT job_id FROM work_items WHERE job_id NOT IN (SELECT job_id FROM work_results)")]
        random.shuffle(pending)
        db.executemany("INSERT INTO work_results (job_id, worker_outcome, output) VALUES (?, 'SKIPPED', ?)",
                       [(job, SAMPLED_OUT) for job in pending[keep:]])


def prepare(name, spec, fresh=False, keep=None):
    """The session for `name`: kept while its sources and the operators are unchanged (a cut run
    goes on where it stopped; changed tests or test settings re-run only the survivors), else made
    anew with a baseline run."""
    os.makedirs(STATE, exist_ok=True)
    config, session, stamp = (os.path.join(STATE, name + ext) for ext in (".toml", ".sqlite", ".json"))
    text = cosmic_ray_config(spec)
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(text)
    now = {"sources": fingerprint(source_files(spec), json.dumps(EXCLUDED)), "tests": fingerprint(spec["tests"], text)}
    kept = read_json(stamp) if os.path.exists(stamp) and os.path.exists(session) and not fresh else {}
    if kept.get("sources") != now["sources"]:
        for path in (session, stamp):
            if os.path.exists(path):
                os.remove(path)
        run(BIN + "/cosmic-ray", "init", config, session)
        run(BIN + "/cr-filter-operators", session, config)
        run(BIN + "/cosmic-ray", "baseline", config)
        if keep is not None:
            sample(session, keep)
        kept = {}
    elif kept.get("tests") != now["tests"]:
        with sqlite3.connect(session) as db:
            db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    write_json(stamp, now)
    return config, session, stamp


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle)


def equivalents():
    """{(file, operator, stripped source line): reason} from equivalent.tsv."""
    found = {}
    with open(EQUIVALENT, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 4:
                sys.exit("%s:%d: expected file, operator, source line and reason, tab-separated" % (EQUIVALENT, number))
            found[tuple(fields[:3])] = fields[3]
    return found


def results(session):
    dump = subprocess.run([BIN + "/cosmic-ray", "dump", session], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    for line in dump.splitlines():
        item, result = json.loads(line)
        yield item["mutations"][0], result


def original_line(diff):
    """The mutated line as it is in the source, from the mutant's diff (the file on disk may be
    another mutant's while a run goes on); blank lines skipped (a decorator's removal takes the blank
    lines above it too)."""
    for line in (diff or "").splitlines():
        if line.startswith("-") and not line.startswith("---") and line[1:].strip():
            return line[1:].strip()
    return ""


def tally(name, session):
    known = equivalents()
    counts = {"mutants": 0, "killed": 0, "survived": 0, "equivalent": 0, "pending": 0, "sampled out": 0}
    survivors = []
    for mutation, result in results(session):
        if result and result["worker_outcome"] == "skipped":
            counts["sampled out"] += result["output"] == SAMPLED_OUT
            continue
        counts["mutants"] += 1
        if result is None:
            counts["pending"] += 1
            continue
        key = (mutation["module_path"], mutation["operator_name"], original_line(result["diff"]))
        if result["test_outcome"] != "survived":
            counts["killed"] += 1
        elif key in known:
            counts["equivalent"] += 1
        else:
            counts["survived"] += 1
            survivors.append((mutation, result))
    judged = counts["mutants"] - counts["equivalent"] - counts["pending"]
    counts["rate"] = 100.0 * counts["killed"] / judged if judged else 0.0
    for mutation, result in survivors:
        print("survived: %s:%d %s" % (mutation["module_path"], mutation["start_pos"][0], mutation["operator_name"]))
        print("".join("    " + diff_line + "\n" for diff_line in (result.get("diff") or "").splitlines()
                      if diff_line[:1] in "+-" and diff_line[:3] not in ("+++", "---")), end="")
    print("%s: %s mutants, %d killed, %d survived, %d equivalent, %d pending: %.1f %% killed"
          % (name, mutants(counts), counts["killed"], counts["survived"], counts["equivalent"],
             counts["pending"], counts["rate"]))
    return counts


def mutants(counts):
    if not counts["sampled out"]:
        return "%d" % counts["mutants"]
    return "%d (random sample of %d)" % (counts["mutants"], counts["mutants"] + counts["sampled out"])


def record(name, counts, cpu, wall):
    """Rewrite `name`'s row of the table between the markers in tests/README.md."""
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    head, rest = text.split(BEGIN + "\n", 1)
    table, tail = rest.split(END, 1)
    rows = [row for row in table.splitlines() if row.strip()]
    header, rows = rows[:2], {row.split("|")[1].strip(): row for row in rows[2:]}
    rows[name] = "| %s | %s | %d | %d | %d | %.1f %% | %d s | %d s |" % (
        name, mutants(counts), counts["killed"], counts["survived"], counts["equivalent"], counts["rate"], cpu, wall)
    order = list(modules())
    body = header + [rows[key] for key in sorted(rows, key=lambda key: order.index(key) if key in order else 99)]
    with open(README, "w", encoding="utf-8") as handle:
        handle.write(head + BEGIN + "\n" + "\n".join(body) + "\n" + END + tail)


def exercise(name, spec, fresh, keep):
    """Run the pending mutants of `name`; keep this run's CPU time (of the tests) and wall time in its stamp."""
    config, session, stamp = prepare(name, spec, fresh, keep)
    before = os.times()
    run(BIN + "/cosmic-ray", "exec", config, session)
    after = os.times()
    kept = read_json(stamp)
    kept["cpu"] = after.children_user + after.children_system - before.children_user - before.children_system
    kept["wall"] = after.elapsed - before.elapsed
    write_json(stamp, kept)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", nargs="*", help="module names from modules.toml (default: all, in order)")
    parser.add_argument("--report", action="store_true", help="only report (and record) the kept sessions, run nothing")
    parser.add_argument("--fresh", action="store_true", help="a new session even if the sources are unchanged")
    parser.add_argument("--sample", type=int, metavar="N", help="a new session runs only N of its mutants, at random")
    args = parser.parse_args()
    table = modules()
    unknown = [name for name in args.module if name not in table]
    if unknown:
        sys.exit("mutate: unknown module %s (known: %s)" % (", ".join(unknown), ", ".join(table)))
    for name in args.module or list(table):
        session, stamp = (os.path.join(STATE, name + ext) for ext in (".sqlite", ".json"))
        if not args.report:
            exercise(name, table[name], args.fresh, args.sample)
        elif not os.path.exists(stamp):
            print("%s: not measured yet" % name)
            continue
        counts = tally(name, session)
        if not counts["pending"]:
            kept = read_json(stamp)
            record(name, counts, kept.get("cpu", 0), kept.get("wall", 0))


if __name__ == "__main__":
    main()
