"""How hard are the held-out lines? The shipped model's loss on them, on the training lines just before them, and on training lines drawn at random."""
import argparse, json
import numpy as np
import charlm_nb.compat  # noqa: F401  (before trax)
from charlm_nb.data import load_lines, split_lines
from charlm_nb.model import load_pretrained
from charlm_nb.perplexity import evaluate

def line_sets(split, n=1000, seed=0):
    "The held-out lines, the `n` training lines just before them, and `n` training lines drawn at random."
    train, held = split
    pick = np.random.default_rng(seed).choice(len(train), n, replace=False)
    return {'held_out': held, 'train_before': train[-n:], 'train_random': [train[i] for i in sorted(pick)]}

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--n', type=int, default=1000, help='training lines in each sample')
    p.add_argument('--seed', type=int, default=0, help='seed of the random sample')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    if a.n < 1: p.error(f'--n must be at least 1, got {a.n}')
    sets = line_sets(split_lines(load_lines()), a.n, a.seed)
    model = load_pretrained()
    keys = ('lines', 'chars', 'token_nats', 'line_nats')
    res = {}
    for k, lines in sets.items():
        r = evaluate(model, lines)
        res[k] = {kk: r[kk] for kk in keys}
    for k, r in res.items():
        print(f"{k:14s} {r['token_nats']:.4f} nats/char token-weighted, {r['line_nats']:.4f} per-line "
              f"({r['lines']:,} lines, {r['chars']:,} characters)")
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(args=vars(a), model='shipped: charlm_nb/pretrained/card.json', sets=res), f, indent=2)

if __name__ == '__main__': main()
