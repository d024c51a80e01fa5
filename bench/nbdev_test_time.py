#!/usr/bin/env python
"""Time the default `nbdev_test` (slow cells skipped): a first run, then a later one.

The first run starts with an empty compilation cache (a new folder in `CHARLM_COMPILE_CACHE`), as on a fresh
machine: every notebook's JAX programs are compiled, and kept. The second run, with the same folder, loads them,
as every later run on a learner's machine does. Both runs are `nbdev_test --timing` from the repository's root;
the times of each notebook are kept. Run it with nothing else busy on the machine (the load average before each
run is recorded).

    python bench/nbdev_test_time.py [--json bench/results/nbdev_test.json]
"""
import argparse, glob, json, os, platform, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def settle(seconds:int):
    "Wait for a quiet machine: a load average < 0.5, or at most `seconds`."
    for _ in range(seconds):
        if os.getloadavg()[0] < 0.5: break
        time.sleep(1)

def run_tests(cache):
    "One `nbdev_test --timing` with compiled programs kept in `cache`: seconds, exit status, per notebook."
    exe = shutil.which('nbdev_test', path=str(Path(sys.executable).parent)) or 'nbdev_test'
    env = dict(os.environ, CHARLM_COMPILE_CACHE=cache)
    env.pop('JAX_COMPILATION_CACHE_DIR', None)
    load = os.getloadavg()[0]
    t = time.perf_counter()
    r = subprocess.run([exe, '--timing'], cwd=ROOT, env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t
    per = {m[1]: int(m[2]) for m in re.finditer(r'^(\S+\.ipynb): (\d+) secs$', r.stdout, re.M)}
    if r.returncode: print(r.stdout[-3000:], r.stderr[-3000:], file=sys.stderr)
    return dict(seconds=round(secs, 1), exit_status=r.returncode, load_average_before=load,
                notebook_seconds=per)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    p.add_argument('--settle', type=int, default=120, help='before each run, wait up to this many seconds for a load average < 0.5')
    args = p.parse_args()
    if args.json and not Path(args.json).parent.is_dir():
        p.error(f'--json: no folder {Path(args.json).parent}')
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as d:
        cache = os.path.join(d, 'jax')
        settle(args.settle)
        first = run_tests(cache)
        print(f"first run (empty compilation cache): {first['seconds']:.0f} s, exit status {first['exit_status']}")
        programs = glob.glob(os.path.join(cache, '*-cache'))
        first.update(cache_programs=len(programs), cache_mb=round(sum(map(os.path.getsize, programs)) / 2**20, 1))
        print(f"the cache then holds {len(programs)} programs, {first['cache_mb']} MB")
        settle(args.settle)
        later = run_tests(cache)
        print(f"later run (programs loaded): {later['seconds']:.0f} s, exit status {later['exit_status']}")
    out = dict(command='nbdev_test', commit=commit, cores=os.cpu_count(), python=platform.python_version(),
               notebooks=len(list((ROOT/'nbs').glob('*.ipynb'))), first_run=first, later_run=later)
    if args.json: Path(args.json).write_text(json.dumps(out, indent=2) + '\n')
    sys.exit(max(first['exit_status'], later['exit_status']))

if __name__ == '__main__': main()
