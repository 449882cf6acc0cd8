#!/usr/bin/env python3
"""check_workflow.py - check .github/workflows/ci.yml against what the
project promises of its hosted CI, on a machine that cannot run it.

    python3 tests/ci/check_workflow.py [--self-test] ROOT

Parses the workflow with PyYAML and checks what a schema cannot: a Linux job
with gcc and with clang, macOS jobs on arm64 and x86_64 runners, a Windows
job on MSYS2's mingw-w64, a FreeBSD job in a VM, a timeout on every job,
actions pinned to a version, and every make target, CHECK_LEGS leg and
script the steps name present in the tree. --self-test also breaks the
workflow in memory in each of those ways and fails unless every breakage is
caught (the negative control). Exit 0 ok, 1 problems found, 77 when PyYAML
is missing.
"""
import copy
import os
import re
import sys

try:
    import yaml
except ImportError:
    print("SKIP: PyYAML is not installed (apt-get install python3-yaml)")
    sys.exit(77)

# macOS runner labels by CPU (GitHub's hosted images).
MACOS_ARM64 = re.compile(r"^macos-(14|15|latest)(-xlarge)?$|-arm64$")
MACOS_X86_64 = re.compile(r"^macos-13(-large)?$|^macos-1[0-3]$|-intel$")


def make_targets(root):
    targets = set()
    with open(os.path.join(root, "Makefile"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.-]+):", line)
            if m:
                targets.add(m.group(1))
    return targets


def steps_text(job):
    out = []
    for step in job.get("steps") or []:
        if "run" in step:
            out.append(str(step["run"]))
        w = step.get("with") or {}
        for key in ("run", "prepare"):
            if key in w:
                out.append(str(w[key]))
    return "\n".join(out)


def uses(job):
    return [s["uses"] for s in job.get("steps") or [] if "uses" in s]


def runners(job):
    """Every runs-on value, with matrix.* expanded."""
    ro = job.get("runs-on")
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    rows = list(matrix.get("include") or [])
    m = re.match(r"^\$\{\{\s*matrix\.(\w+)\s*\}\}$", str(ro))
    if m:
        key = m.group(1)
        vals = [r[key] for r in rows if key in r] + list(matrix.get(key) or [])
        return [str(v) for v in vals]
    return [str(ro)]


def check(wf, root):
    problems = []
    targets = make_targets(root)
    # PyYAML reads the key "on" as the boolean True (YAML 1.1).
    if "on" not in wf and True not in wf:
        problems.append("no trigger ('on:')")
    jobs = wf.get("jobs") or {}
    if not jobs:
        return problems + ["no jobs"]

    all_runners = []
    for name, job in jobs.items():
        if "timeout-minutes" not in job:
            problems.append(f"job {name}: no timeout-minutes")
        for u in uses(job):
            if not re.search(r"@v?\d+(\.\d+)*$", u):
                problems.append(f"job {name}: action not pinned to a version: {u}")
        all_runners += [(name, r) for r in runners(job)]
        text = steps_text(job)
        # make or gmake as a command: at the start of a line or after ; && ||
        for m in re.finditer(r"(?:^|[;&|])\s*g?make\s+([^\n|&;]*)", text,
                             re.MULTILINE):
            args = m.group(1)
            for legs in re.findall(r'CHECK_LEGS="([^"]*)"', args):
                for leg in legs.split():
                    if leg not in targets:
                        problems.append(f"job {name}: leg {leg} is not a Makefile target")
            rest = re.sub(r'\w+="[^"]*"|\w+=\S+', " ", args)
            for word in rest.split():
                if word.startswith("-") or word.startswith("$"):
                    continue
                if word not in targets:
                    problems.append(f"job {name}: make {word}: no such Makefile target")
        for path in re.findall(r"(?:bash|sh)\s+(\.?[\w./-]+\.(?:sh|py)|\.ci/run)", text):
            if not os.path.exists(os.path.join(root, path)):
                problems.append(f"job {name}: {path} does not exist")

    texts = {n: steps_text(j) + "\n" + " ".join(uses(j)) for n, j in jobs.items()}
    linux = [n for n, r in all_runners if r.startswith("ubuntu")]
    ccs = set()
    for n in set(linux):
        cc = ((jobs[n].get("strategy") or {}).get("matrix") or {}).get("cc") or []
        ccs |= set(cc)
    for cc in ("gcc", "clang"):
        if cc not in ccs:
            problems.append(f"no Linux job builds with {cc}")
    if not any(MACOS_ARM64.search(r) for _, r in all_runners):
        problems.append("no macOS arm64 runner")
    if not any(MACOS_X86_64.search(r) for _, r in all_runners):
        problems.append("no macOS x86_64 runner")
    for n, r in all_runners:
        if r.startswith("macos") and "check-build" not in texts[n] \
                and "ctest" not in texts[n]:
            problems.append(f"job {n}: macOS job runs no tests")
    if not any("msys2/setup-msys2@" in t and "MINGW64" in yaml.safe_dump(jobs[n])
               for n, t in texts.items()):
        problems.append("no Windows job with MSYS2 mingw-w64 (MINGW64)")
    if not any("freebsd-vm@" in t for t in texts.values()):
        problems.append("no FreeBSD VM job")
    return problems


def breakages(wf):
    """(what, broken workflow) pairs that check() must each reject."""
    def edit(fn):
        w = copy.deepcopy(wf)
        fn(w)
        return w

    def drop_runner(w, label):
        for job in w["jobs"].values():
            inc = ((job.get("strategy") or {}).get("matrix") or {}).get("include")
            if inc:
                inc[:] = [r for r in inc if r.get("runner") != label]

    def first_run_step(w):
        for job in w["jobs"].values():
            for s in job.get("steps") or []:
                if "run" in s and "make" in s["run"]:
                    return s
        raise AssertionError("no make step")

    return [
        ("no clang", edit(lambda w: w["jobs"]["linux"]["strategy"]["matrix"].update(cc=["gcc"]))),
        ("no macOS x86_64", edit(lambda w: drop_runner(w, "macos-13"))),
        ("no macOS arm64", edit(lambda w: drop_runner(w, "macos-14"))),
        ("no FreeBSD", edit(lambda w: w["jobs"].pop("freebsd"))),
        ("no Windows", edit(lambda w: w["jobs"].pop("windows"))),
        ("no timeout", edit(lambda w: w["jobs"]["linux"].pop("timeout-minutes"))),
        ("unpinned action", edit(lambda w: w["jobs"]["linux"]["steps"][0].update(uses="actions/checkout@main"))),
        ("unknown make target", edit(lambda w: first_run_step(w).update(run="make check-nothing"))),
        ("unknown leg", edit(lambda w: first_run_step(w).update(run='make check CHECK_LEGS="check-nothing"'))),
    ]


def main(argv):
    self_test = "--self-test" in argv
    args = [a for a in argv if a != "--self-test"]
    root = args[0] if args else "."
    path = os.path.join(root, ".github", "workflows", "ci.yml")
    with open(path, encoding="utf-8") as f:
        wf = yaml.safe_load(f)
    problems = check(wf, root)
    for p in problems:
        print(f"{path}: {p}")
    if problems:
        return 1
    print(f"{path}: {len(wf['jobs'])} jobs, every check passed")
    if self_test:
        missed = []
        for what, broken in breakages(wf):
            found = check(broken, root)
            print(f"negative control '{what}': {'; '.join(found) or 'NOT CAUGHT'}")
            if not found:
                missed.append(what)
        if missed:
            print("negative controls not caught: " + ", ".join(missed))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
