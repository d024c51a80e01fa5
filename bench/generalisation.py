#!/usr/bin/env python
"""Seen against unseen lines over one run: what limits the held-out loss of a 20-minute model?

    python bench/generalisation.py --minutes 20 [--d-model 512] [--dropout 0 [--shared-masks]] [--final-lr 0.1] [--weight-decay 1e-5] [--tokens 4096] [--lr 0.005] [--json FILE]

One run of the library's `train_model(minutes=N, model_fn=...)` with the one-layer recipe of `bench/quality.py`
(and `bench/dropout.py`'s `GRULM` with `tl.Dropout(--dropout)` after its embedding and its GRU; rate 0 is the plain
model). A thread keeps a copy of the weights every `--every-minutes` of the run's clock (`bench/architectures.py`'s
`Snapshots`: the training does not wait for it); after the run, every copy and the final weights are evaluated with
`charlm_nb.perplexity.evaluate` (per line from its start, as always) on three sets of lines
(`bench/held_out_difficulty.py`): the 1,000 held-out lines, the 1,000 training lines just before them (the same
play), and 1,000 training lines drawn at random. If the held-out loss levels off while the loss on lines the model
trains on keeps falling, more time buys memory, not skill; if both level off together, the model is short of
capacity or of steps.

Then, for the last 10 %, 25 % and 50 % of the run, the mean of the copies taken in it (and the final weights) is
evaluated the same way ("tail averaging", as in stochastic weight averaging): averaging weights that wander around
a valley floor lands nearer its bottom than any one of them, at the cost of one evaluation.
"""
import _uncached  # noqa: F401  (first: compiling counts, no compilation cache)
import argparse, json, tempfile
from pathlib import Path
import numpy as np
import charlm_nb.compat  # noqa: F401  (before trax)
import jax
from charlm_nb.data import load_lines, split_lines
from charlm_nb.model import init_model, set_weights
from charlm_nb.train import train_model
from charlm_nb.checkpoint import checkpoint_seconds
from charlm_nb.perplexity import evaluate
from architectures import Snapshots, count_chars
from dropout import RECIPE, dropout_GRULM
from held_out_difficulty import line_sets
from train_throughput import machine

TAILS = (0.1, 0.25, 0.5)    # tail averages: fractions of the run, decided before the first averaged run

def run(minutes, every, d_model, rate, shared, final_lr, weight_decay, lines, seed, recipe=RECIPE):
    snaps = Snapshots(every * 60)
    def model_fn(mode):
        m = dropout_GRULM(d_model, rate, mode, shared=shared)
        if mode == 'train': snaps.start(m)      # train_model calls this right after starting its clock
        return m
    with tempfile.TemporaryDirectory() as d:
        try:
            loop, losses = train_model(f'{d}/run', minutes=minutes, d_model=d_model, lines=lines, seed=seed,
                                       model_fn=model_fn, eval_every=10**9, progress=False, final_lr=final_lr,
                                       weight_decay=weight_decay, **recipe)
        finally: snaps.stop()
        seconds = checkpoint_seconds(f'{d}/run')
    final = jax.tree_util.tree_leaves(loop.model.weights)
    shapes = [np.shape(x) for x in final]
    points = [(t, w) for t, w in snaps.points if t < seconds - 1 and [np.shape(x) for x in w] == shapes]
    points.append((seconds, [np.asarray(x) for x in final]))
    em, sets = init_model(dropout_GRULM(d_model, rate, 'eval', shared=shared)), line_sets(lines)
    def score(weights, label):
        "Evaluate `weights` on the three line sets; print them after `label`."
        set_weights(em, weights)
        nats = {k: evaluate(em, v)['token_nats'] for k, v in sets.items()}
        print(f'  {label}: ' + ', '.join(f'{k} {x:.3f}' for k, x in nats.items()), flush=True)
        return nats
    curve = [dict(minutes=t / 60, **score(w, f'{t / 60:6.2f} min')) for t, w in points]
    averaged = []                       # tail averaging: the mean of the copies taken in the run's last part
    for frac in TAILS:
        tail = [(t, w) for t, w in points if t >= (1 - frac) * seconds]     # in time order
        mean = [np.mean(xs, axis=0) for xs in zip(*(w for _, w in tail))]
        averaged.append(dict(last_fraction=frac, copies=len(tail), from_minute=tail[0][0] / 60,
                             **score(mean, f'mean of the {len(tail)} copies of the last {frac:.0%}')))
    useful, padded, _ = count_chars(lines[0], loop.step, dict(recipe, max_length=128), seed, n_dev=1)
    return dict(steps=loop.step, seconds=seconds, useful_chars=useful, padded_chars=padded,
                train_loss_last_100=float(np.mean([l for _, l in losses[-100:]])), curve=curve, averaged=averaged)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--minutes', type=float, required=True, help='wall-clock training budget')
    p.add_argument('--every-minutes', type=float, default=2.0, help='minutes between copies of the weights')
    p.add_argument('--d-model', type=int, default=512, help='embedding and GRU width')
    p.add_argument('--dropout', type=float, default=0.0, help="dropout rate (bench/dropout.py's places)")
    p.add_argument('--shared-masks', action='store_true', help='one dropout mask per row, shared by its positions')
    p.add_argument('--weight-decay', type=float, default=1e-5,
                   help="fraction of each weight Adam takes off a step (train_model's weight_decay)")
    p.add_argument('--final-lr', type=float, default=0.1, help='learning rate at the end, as a fraction of the peak')
    p.add_argument('--tokens', type=int, default=RECIPE['tokens'], help='slots per batch (length batches)')
    p.add_argument('--lr', type=float, default=RECIPE['lr'], help="Adam's peak learning rate")
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    if a.minutes <= 0: p.error(f'--minutes must be positive, got {a.minutes}')
    if a.every_minutes <= 0: p.error(f'--every-minutes must be positive, got {a.every_minutes}')
    if not 0 <= a.dropout < 1: p.error(f'--dropout must be in [0, 1), got {a.dropout}')
    if not 0 <= a.final_lr <= 1: p.error(f'--final-lr must be in [0, 1], got {a.final_lr}')
    if not 0 <= a.weight_decay < 0.01: p.error(f'--weight-decay must be in [0, 0.01), got {a.weight_decay}')
    if a.tokens < 128: p.error(f'--tokens must be at least 128 (the longest line), got {a.tokens}')
    if not 0 < a.lr < 1: p.error(f'--lr must be in (0, 1), got {a.lr}')
    if a.json and not Path(a.json).parent.is_dir(): p.error(f'--json: no folder {Path(a.json).parent}')
    command = (f'python bench/generalisation.py --minutes {a.minutes:g} --every-minutes {a.every_minutes:g} '
               f'--d-model {a.d_model} --dropout {a.dropout:g}' + (' --shared-masks' if a.shared_masks else '')
               + f' --final-lr {a.final_lr:g}'
               + (f' --weight-decay {a.weight_decay:g}' if a.weight_decay != p.get_default('weight_decay') else '')
               + (f' --tokens {a.tokens}' if a.tokens != RECIPE['tokens'] else '')
               + (f' --lr {a.lr:g}' if a.lr != RECIPE['lr'] else '')
               + (f' --seed {a.seed}' if a.seed else '') + (f' --json {a.json}' if a.json else ''))
    print(f'reproduce with: {command}', flush=True)
    recipe = dict(RECIPE, tokens=a.tokens, lr=a.lr)
    r = run(a.minutes, a.every_minutes, a.d_model, a.dropout, a.shared_masks, a.final_lr, a.weight_decay,
            split_lines(load_lines()), a.seed, recipe)
    last = r['curve'][-1]
    print(f"{r['steps']:,} steps in {r['seconds']:.0f} s ({r['useful_chars'] / r['seconds']:,.0f} useful chars/s); "
          f"final: held-out {last['held_out']:.3f}, training lines before it {last['train_before']:.3f}, "
          f"random training lines {last['train_random']:.3f} nats/char (token-weighted); training loss "
          f"(last 100 steps) {r['train_loss_last_100']:.3f}")
    if a.json:
        out = dict(command=command, minutes=a.minutes, every_minutes=a.every_minutes, d_model=a.d_model,
                   dropout=a.dropout, shared_masks=a.shared_masks, final_lr=a.final_lr,
                   weight_decay=a.weight_decay, seed=a.seed, recipe=recipe, machine=machine(), **r)
        Path(a.json).write_text(json.dumps(out, indent=2) + '\n')

if __name__ == '__main__': main()
