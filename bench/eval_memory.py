#!/usr/bin/env python
"""Evaluation memory: one very long line (100,000 characters of the corpus by default) evaluated with the shipped model.

The line is the corpus' lines joined with spaces, cut to --chars characters: one held-out "line" far longer than any
real one. `evaluate` reads it in chunks of --chunk positions carrying the GRU state (lesson 6), so its memory should
not depend on the length. Reported: the peak resident memory of this fresh process (resource.getrusage ru_maxrss)
before and right after `evaluate` (the reference below is computed after that measurement, so it does not count),
and the result next to a reference computed another way: a plain-numpy forward pass with the same weights
(embedding, the GRU equations, dense, log-softmax), one position at a time, no Trax, no JAX, no chunks.

    python bench/eval_memory.py [--chars 100000] [--chunk 256] [--gru trax] [--json bench/results/eval_memory.json]
"""
import _uncached  # noqa: F401  (first: compiling counts, no compilation cache)
import argparse, json, math, resource, time
from pathlib import Path
import numpy as np

def peak_rss_mb():
    "Peak resident memory of this process so far, in MB (Linux reports kB)."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def numpy_log_prob(model, codes):
    "Sum of the log-probabilities a `GRULM`'s weights give `codes` (EOS included), in plain numpy, from the line's start."
    import jax
    leaves = lambda layer: [np.asarray(w, np.float32) for w in jax.tree_util.tree_leaves(layer.weights)]
    layers = model.sublayers                          # ShiftRight, Embedding, GRU x n, Dense, LogSoftmax
    codes = np.asarray(codes)
    x = leaves(layers[1])[0][np.r_[0, codes[:-1]]]    # the start symbol 0, then the line without its last code
    for layer in layers[2:-2]:
        w1, b1, w2, b2 = leaves(layer)                # tl.GRU: [x, h] @ w1 -> gates u, r; [x, r*h] @ w2 -> candidate
        d, n = x.shape[1], b2.shape[0]
        p1, p2 = x @ w1[:d] + b1, x @ w2[:d] + b2     # the input half of every gate, all positions at once
        w1h, w2h = w1[d:], w2[d:]
        h, hs = np.zeros(n, np.float32), np.empty((len(x), n), np.float32)
        for t in range(len(x)):
            ur = 1 / (1 + np.exp(-(p1[t] + h @ w1h)))
            u, r = ur[:n], ur[n:]
            c = np.tanh(p2[t] + (r * h) @ w2h)
            h = u * h + (1 - u) * c
            hs[t] = h
        x = hs
    w, b = leaves(layers[-2])
    total = 0.0
    for s in range(0, len(x), 4096):                  # log-softmax in float64, a block at a time
        logits = (x[s:s + 4096] @ w + b).astype(np.float64)
        m = logits.max(1, keepdims=True)
        log_p = logits - m - np.log(np.exp(logits - m).sum(1, keepdims=True))
        total += log_p[np.arange(len(log_p)), codes[s:s + 4096]].sum()
    return float(total)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], allow_abbrev=False)
    p.add_argument('--chars', type=int, default=100_000, help='length of the line (characters, EOS not counted)')
    p.add_argument('--chunk', type=int, default=256, help="evaluate's chunk (positions per call)")
    p.add_argument('--gru', default='trax', choices=['trax', 'fast'])
    p.add_argument('--no-reference', action='store_true', help='skip the (slow: about 1 s per 1,000 characters) numpy reference')
    p.add_argument('--json', default=str(Path(__file__).parent/'results'/'eval_memory.json'),
                   help="write the results to this JSON file ('' for none)")
    a = p.parse_args()
    rss_start = peak_rss_mb()
    import charlm_nb.compat  # noqa: F401  (before trax)
    from charlm_nb.data import load_lines, line_to_tensor
    from charlm_nb.model import load_pretrained, config_of
    from charlm_nb.perplexity import evaluate
    line = ' '.join(load_lines())[:a.chars]
    if len(line) < a.chars: raise SystemExit(f'the corpus has only {len(line):,} characters')
    model = load_pretrained(gru=a.gru)
    rss_before = peak_rss_mb()
    r = evaluate(model, [line], chunk=a.chunk)
    rss_after = peak_rss_mb()
    print(f"model: shipped, {config_of(model)}; one line of {a.chars:,} characters ({r['chars']:,} codes incl. EOS), "
          f"chunk {a.chunk}")
    print(f"evaluate: {r['token_nats']:.6f} nats/char, {r['seconds']:.1f} s ({r['chars_per_s']:,.0f} chars/s, "
          f"compilation included)")
    print(f'peak RSS: {rss_start:,.0f} MB at start, {rss_before:,.0f} MB with the model and corpus loaded, '
          f'{rss_after:,.0f} MB after evaluate (goal: < 1,000 MB)')
    out = dict(args={k: v for k, v in vars(a).items() if k != 'json'}, config=config_of(model), chars=a.chars, codes=r['chars'],
               evaluate=dict(token_nats=r['token_nats'], sum_log_prob=-r['token_nats'] * r['chars'],
                             seconds=r['seconds'], chars_per_s=r['chars_per_s'], padded_chars=r['padded_chars']),
               peak_rss_mb=dict(start=rss_start, loaded=rss_before, after_evaluate=rss_after))
    if not a.no_reference:
        t = time.perf_counter(); ref = numpy_log_prob(model, line_to_tensor(line)); secs = time.perf_counter() - t
        diff = abs(-ref / r['chars'] - r['token_nats'])
        print(f'numpy reference: {-ref / r["chars"]:.6f} nats/char ({secs:.0f} s); '
              f'difference {diff:.2e} nats/char ({"OK" if diff < 1e-4 else "TOO LARGE"}: < 1e-4)')
        out['reference'] = dict(method='plain-numpy forward pass, one position at a time', sum_log_prob=ref,
                                token_nats=-ref / r['chars'], seconds=secs, abs_diff_nats_per_char=diff,
                                agrees=bool(diff < 1e-4 and math.isfinite(ref)))
    if a.json:
        with open(a.json, 'w') as f: json.dump(out, f, indent=2)
        print(f'wrote {a.json}')

if __name__ == '__main__': main()
