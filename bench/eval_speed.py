#!/usr/bin/env python
"""Evaluation speed: `evaluate` of the shipped model on the 1,000 held-out lines, first call (compiling) and compiled.

The first call compiles the model once per batch shape and evaluates; the next --repeat calls reuse the compiled
functions: their best time is the evaluation's speed (goal: <= 5 s for the default model). Characters are the real
ones (each line's characters and its EOS); padded positions are those the model computed (rows x length of every
batch), to show what padding costs.

    python bench/eval_speed.py [--gru trax] [--lines 1000] [--batch-size 64] [--json bench/results/eval_speed.json]
"""
import _uncached  # noqa: F401  (first: compiling counts, no compilation cache)
import argparse, json, time
from pathlib import Path

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], allow_abbrev=False)
    p.add_argument('--gru', default='trax', choices=['trax', 'fast'])
    p.add_argument('--lines', type=int, default=1000, help='the first N of the 1,000 held-out lines')
    p.add_argument('--batch-size', type=int, default=64); p.add_argument('--chunk', type=int, default=256)
    p.add_argument('--repeat', type=int, default=2, help='compiled runs (the best is reported)')
    p.add_argument('--json', default=str(Path(__file__).parent/'results'/'eval_speed.json'),
                   help="write the results to this JSON file ('' for none)")
    a = p.parse_args()
    import charlm_nb.compat  # noqa: F401  (before trax)
    from charlm_nb.data import load_lines, split_lines
    from charlm_nb.model import load_pretrained, config_of
    from charlm_nb.perplexity import evaluate
    held_out = split_lines(load_lines())[1][:a.lines]
    model = load_pretrained(gru=a.gru)
    t = time.perf_counter(); first = evaluate(model, held_out, a.batch_size, a.chunk); first_s = time.perf_counter() - t
    runs = [evaluate(model, held_out, a.batch_size, a.chunk) for _ in range(a.repeat)]
    best = min(runs, key=lambda r: r['seconds'])
    if any(abs(r['token_nats'] - first['token_nats']) > 1e-9 for r in runs):
        raise SystemExit('the compiled runs gave another result than the first')
    compile_s = first_s - best['seconds']
    print(f"model: shipped, {config_of(model)}; {best['lines']:,} held-out lines, {best['chars']:,} characters "
          f"(incl. EOS), {best['padded_chars']:,} positions computed (padding: "
          f"{1 - best['chars'] / best['padded_chars']:.0%}); batch size {a.batch_size}")
    print(f"first call: {first_s:.2f} s (compilation ~{compile_s:.2f} s)")
    print(f"compiled:   {best['seconds']:.2f} s = {best['chars_per_s']:,.0f} chars/s "
          f"({best['padded_chars'] / best['seconds']:,.0f} padded positions/s); goal <= 5 s")
    print(f"held-out: {best['token_nats']:.4f} nats/char token-weighted, {best['line_nats']:.4f} per-line mean")
    if a.json:
        out = dict(args={k: v for k, v in vars(a).items() if k != 'json'}, config=config_of(model), lines=best['lines'], chars=best['chars'],
                   padded_chars=best['padded_chars'], first_call_s=first_s, compile_s=compile_s,
                   seconds=best['seconds'], all_seconds=[r['seconds'] for r in runs],
                   chars_per_s=best['chars_per_s'], padded_chars_per_s=best['padded_chars'] / best['seconds'],
                   token_nats=best['token_nats'], line_nats=best['line_nats'])
        with open(a.json, 'w') as f: json.dump(out, f, indent=2)
        print(f'wrote {a.json}')

if __name__ == '__main__': main()
