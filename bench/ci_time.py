#!/usr/bin/env python
"""Time CI as it runs: a fresh clone of a commit, then `.ci/run` in it (install, tests, slow tests, docs site, JupyterLab).

`.ci/run` prints a line `== <step> (<seconds since its start>s)` as each step starts, `N pages in <folder> (<s> s)`
when the docs site is built, and `== done (<s>s)` at its end; this script keeps those lines as JSON: every step's
time, the docs build's, and the total. The clone is new and so is its compilation cache, as on CI. Run it with
nothing else busy on the machine (the load average before the run is recorded).

    python bench/ci_time.py [--commit HEAD] [--json bench/results/ci_time.json]
"""
import argparse, json, os, platform, re, subprocess, sys, tempfile, time
from pathlib import Path
from nbdev_test_time import settle

ROOT = Path(__file__).resolve().parent.parent
STEP = re.compile(r'^== (.+) \((\d+)s\)$', re.M)
DOCS = re.compile(r'^(\d+) pages in \S+ \((\d+(?:\.\d+)?) s\)', re.M)

def steps(log:str) -> dict:
    "`{step: seconds}` from `.ci/run`'s output: each step's start to the next one's."
    marks = [(m[1], int(m[2])) for m in STEP.finditer(log)]
    return {name: nxt - t for (name, t), (_, nxt) in zip(marks, marks[1:])}

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--commit', default='HEAD', help='the commit to clone and check (default: HEAD)')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    p.add_argument('--settle', type=int, default=120, help='first wait up to this many seconds for a load average < 0.5')
    args = p.parse_args()
    if args.json and not Path(args.json).parent.is_dir():
        p.error(f'--json: no folder {Path(args.json).parent}')
    git = lambda *a, cwd=ROOT: subprocess.run(['git', *a], cwd=cwd, capture_output=True, text=True)
    commit = git('rev-parse', '--short', args.commit)
    if commit.returncode: p.error(f'--commit: {args.commit!r} is not a commit of {ROOT}')
    commit = commit.stdout.strip()
    with tempfile.TemporaryDirectory() as d:
        clone = Path(d)/'clone'
        git('clone', '-q', str(ROOT), str(clone))
        git('checkout', '-q', commit, cwd=clone)
        settle(args.settle)
        load = os.getloadavg()[0]
        env = {k: v for k, v in os.environ.items() if k not in ('VIRTUAL_ENV', 'PYTHONPATH')}
        env['PATH'] = os.pathsep.join(x for x in env.get('PATH', '').split(os.pathsep)
                                      if not x.startswith(str(ROOT)))   # not this folder's venv
        t = time.perf_counter()
        r = subprocess.run(['bash', '.ci/run'], cwd=clone, env=dict(env, CI='true'),
                           capture_output=True, text=True)
        secs = time.perf_counter() - t
    log = r.stdout + r.stderr
    if r.returncode:
        print(log[-3000:], file=sys.stderr)
        sys.exit(f'.ci/run failed (exit status {r.returncode}) on commit {commit}: nothing written')
    done = [int(m[2]) for m in STEP.finditer(log) if m[1] == 'done']
    docs = DOCS.search(log)
    if not done or not docs:
        sys.exit(".ci/run's output has no '== done' line or no docs build line: nothing written")
    out = dict(command='.ci/run', commit=commit, cores=os.cpu_count(), python=platform.python_version(),
               load_average_before=load, seconds=round(secs, 1), ci_run_seconds=done[0],
               steps=steps(log), docs_pages=int(docs[1]), docs_build_seconds=float(docs[2]))
    print(f".ci/run on a fresh clone of {commit}: {secs:.0f} s (it reports {done[0]} s); "
          f"the docs build: {out['docs_build_seconds']:g} s for {out['docs_pages']} pages")
    for name, s in out['steps'].items(): print(f'  {s:4d} s  {name}')
    if args.json: Path(args.json).write_text(json.dumps(out, indent=2) + '\n')

if __name__ == '__main__': main()
