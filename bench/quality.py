#!/usr/bin/env python
"""Quality under a CPU budget, as a thin caller of `charlm train --minutes N`: train for N minutes of wall-clock
time with the library's recipe, then report the held-out loss on the last 1,000 lines of the corpus in both
conventions (nats and bits per char), and the command that reproduces the number.

    python bench/quality.py --minutes 2 [--json bench/results/quality_2.json] [-- extra charlm train options]

The corpus and split are lesson 4's. The clock is `train_model`'s (it starts before the model is built, so
compilation counts). The defaults below are the configuration chosen for a 2-core CPU; any `charlm train` option
after `--` overrides them.
"""
import _uncached  # noqa: F401  (first: compiling counts, no compilation cache)
import argparse, json, shlex, shutil, subprocess, sys, tempfile, time
from pathlib import Path

RECIPE = ['--d-model', '384', '--n-layers', '1', '--lr', '0.005', '--warmup', '50', '--tokens', '4096',
          '--gru', 'fast_bf16', '--eval-every', '100000', '--checkpoint-every', '500']

def merged(recipe, extra):
    "The recipe without the options that `extra` gives again (every recipe option has one value), then `extra`."
    extra = [y for x in extra for y in (x.split('=', 1) if x.startswith('--') and '=' in x else [x])]
    again, out, i = {a for a in extra if a.startswith('--')}, [], 0
    while i < len(recipe):
        if recipe[i] in again: i += 2
        else: out += recipe[i:i + 2]; i += 2
    return out + extra

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], allow_abbrev=False)
    p.add_argument('--minutes', type=float, required=True, help='wall-clock training budget')
    p.add_argument('--json', default=None, help='write the result here')
    p.add_argument('extra', nargs='*', help='more `charlm train` options (after --)')
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)/'run'
        args = ['--minutes', f'{a.minutes:g}'] + merged(RECIPE, a.extra)
        last = lambda flag, default: args[len(args) - 1 - args[::-1].index(flag) + 1] if flag in args else default
        recipe = dict(tokens=int(last('--tokens', 2048)), max_length=int(last('--max-length', 128)),
                      batching=last('--batching', 'length'))
        if recipe['batching'] == 'pad': sys.exit('quality.py counts the characters of length or pack batches only')
        command = 'charlm train --output-dir RUN ' + ' '.join(shlex.quote(x) for x in args)
        t = time.perf_counter()
        charlm = [shutil.which('charlm') or sys.executable, *([] if shutil.which('charlm') else
                  ['-c', 'import sys; from charlm_nb.cli import main; sys.exit(main())'])]
        r = subprocess.run([*charlm, 'train', '--output-dir', str(out), *args],
                           capture_output=True, text=True)
        wall = time.perf_counter() - t
        if r.returncode: sys.exit(f'charlm train failed ({r.returncode}):\n{r.stderr[-3000:]}')
        from charlm_nb.checkpoint import checkpoint_step, checkpoint_seconds, load_model
        from charlm_nb.data import load_lines, split_lines
        from charlm_nb.perplexity import evaluate
        te = time.perf_counter()
        res = evaluate(load_model(out), split_lines(load_lines())[1])
        eval_secs = time.perf_counter() - te
        steps, secs = checkpoint_step(out), checkpoint_seconds(out)
        from architectures import count_chars          # the same batches again, counted (bench/architectures.py)
        useful, padded, _ = count_chars(split_lines(load_lines())[0], steps, recipe, seed=int(last('--seed', 0)), n_dev=1)
    print(f'reproduce: {command}  &&  charlm eval --output-dir RUN')
    print(f'trained {secs / 60:.2f} min ({wall:.0f} s wall-clock for the process): {steps} steps, '
          f'{useful / secs:,.0f} useful chars/s ({padded / secs:,.0f} padded slots/s)')
    print(f"held-out ({res['lines']} lines, {res['chars']:,} chars): token-weighted {res['token_nats']:.3f} nats/char "
          f"= {res['token_bits']:.3f} bits/char; per-line mean {res['line_nats']:.3f} nats/char "
          f"= {res['line_bits']:.3f} bits/char (evaluation {eval_secs:.1f} s)")
    if a.json:
        Path(a.json).write_text(json.dumps(dict(minutes=a.minutes, command=command, train_minutes=secs / 60, steps=steps,
                                                process_seconds=wall, eval_seconds=eval_secs,
                                                useful_chars=useful, padded_chars=padded, useful_chars_per_s=useful / secs,
                                                padded_chars_per_s=padded / secs, held_out=res), indent=2) + '\n')

if __name__ == '__main__': main()
