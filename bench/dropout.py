#!/usr/bin/env python
"""Dropout against none, on the same CPU budget: does regularisation buy held-out quality in N minutes?

    python bench/dropout.py --minutes 10 --rates 0 0.1 [--json bench/results/dropout_10.json]

For each rate, one run of the library's `train_model(minutes=N, model_fn=...)` with the recipe of
`bench/quality.py`'s one-layer runs (`--d-model`, default 512, one `FastGRU` layer with bfloat16 products, Adam at
0.005 with 50 warm-up steps, length batches of ~4,096 slots), on a `GRULM` with Trax's `tl.Dropout(rate)` after the
embedding and after the GRU layer (dropout on the non-recurrent connections, in training only; rate 0 keeps the
layers, so both runs are the same program but for the rate). Then the held-out loss of the final weights, both
conventions, with `charlm_nb.perplexity.evaluate` on a model built in eval mode (dropout off). The runs follow
each other in one process, without the compilation cache: each compiles, as a first run does.
"""
import _uncached  # noqa: F401  (first: compiling counts, no compilation cache)
import argparse, json, tempfile
from pathlib import Path
import numpy as np
import charlm_nb.compat
import jax
from trax import layers as tl
import charlm_nb.fast_gru  # noqa: F401  (registers 'fast_bf16')
from charlm_nb.data import load_lines, split_lines
from charlm_nb.model import GRULM, init_model, set_weights
from charlm_nb.train import train_model
from charlm_nb.perplexity import evaluate
from train_throughput import machine

RECIPE = dict(n_layers=1, lr=0.005, warmup=50, tokens=4096, gru='fast_bf16')

def dropout_GRULM(d_model:int, rate:float, mode:str='train', vocab_size:int=256, shared:bool=False):
    """`GRULM(vocab_size, d_model, 1, mode, 'fast_bf16')` with `tl.Dropout(rate)` after its embedding and its GRU;
    `shared`: one mask per row for all its positions (variational dropout, Gal & Ghahramani 2016), not one per position."""
    shift, embed, gru, dense, log_softmax = GRULM(vocab_size, d_model, 1, mode, RECIPE['gru']).sublayers
    axes = [1] if shared else None
    return tl.Serial(shift, embed, tl.Dropout(rate, axes, mode=mode), gru, tl.Dropout(rate, axes, mode=mode),
                     dense, log_softmax)

def run(rate, minutes, d_model, lines, seed):
    with tempfile.TemporaryDirectory() as d:
        loop, losses = train_model(f'{d}/run', minutes=minutes, d_model=d_model, lines=lines, seed=seed,
                                   model_fn=lambda mode: dropout_GRULM(d_model, rate, mode),
                                   eval_every=10**9, progress=False, **RECIPE)
    em = set_weights(init_model(dropout_GRULM(d_model, rate, 'eval')),   # dropout off
                     jax.tree_util.tree_leaves(loop.model.weights))
    return dict(rate=rate, steps=loop.step,
                train_loss_last_100=float(np.mean([l for _, l in losses[-100:]])),
                held_out=evaluate(em, lines[1]))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--minutes', type=float, required=True, help='wall-clock training budget of each run')
    p.add_argument('--rates', type=float, nargs='+', default=[0.0, 0.1], help='dropout rates, one run each')
    p.add_argument('--d-model', type=int, default=512, help='embedding and GRU width')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    args = p.parse_args()
    if args.minutes <= 0: p.error(f'--minutes must be positive, got {args.minutes}')
    if bad := [r for r in args.rates if not 0 <= r < 1]: p.error(f'--rates must be in [0, 1), got {bad}')
    if args.json and not Path(args.json).parent.is_dir(): p.error(f'--json: no folder {Path(args.json).parent}')
    lines = split_lines(load_lines(None), n_eval=1000)
    runs = []
    for rate in args.rates:
        runs.append(run(rate, args.minutes, args.d_model, lines, args.seed))
        r = runs[-1]
        print(f"dropout {rate:g}: {r['steps']:,} steps, held-out {r['held_out']['token_nats']:.3f} nats/char "
              f"(token-weighted), training loss (last 100 steps, dropout on) {r['train_loss_last_100']:.3f}",
              flush=True)
    out = dict(minutes=args.minutes, d_model=args.d_model, seed=args.seed, recipe=RECIPE,
               command='python bench/dropout.py ' + ' '.join(
                   [f'--minutes {args.minutes:g}', '--rates', *(f'{r:g}' for r in args.rates),
                    f'--d-model {args.d_model}']),
               machine=machine(),
               runs=runs)
    if args.json: Path(args.json).write_text(json.dumps(out, indent=2) + '\n')

if __name__ == '__main__': main()
