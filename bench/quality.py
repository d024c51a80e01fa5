#!/usr/bin/env python
"""Quality under a CPU budget: train the best GRU configuration found for a 2-core CPU for N minutes of wall-clock
time, then report the held-out loss on the last 1,000 lines of the corpus, both conventions, nats and bits per char.

The corpus and split are lesson 4's: every *_gut.txt text in file-name order, lines stripped, empty lines dropped,
lowercased; the last 1,000 lines held out. The clock starts before the model is built, so compilation counts.

    python bench/quality.py --minutes 2 [--eval-at 1 2] [--json results.json]

Defaults are the configuration chosen for a 2-core CPU (see the Benchmarks page): FastGRU, d_model 256, 1 layer,
batch 64 x length 64, Adam with gradient clipping at 1.0, learning rate 5e-3 with a 50-step warm-up and a linear
decay to 10% over the time budget (a wall-clock schedule: the budget is time, not steps). In 2-minute trials it beat
d_model 384 (lr 3e-3) and 512 (lr 2e-3, batch 32), which take fewer steps in the same time.
"""
import argparse, contextlib, io, json, math, os, sys, time
import numpy as np
t_start = time.perf_counter()
import charlm_nb.compat
import jax, trax
from trax import layers as tl
from trax.supervised import training
from charlm_nb.data import load_lines, split_lines, data_generator
from charlm_nb.model import GRULM
from charlm_nb.perplexity import evaluate

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--minutes', type=float, required=True, help='wall-clock training budget')
    p.add_argument('--d-model', type=int, default=256); p.add_argument('--layers', type=int, default=1)
    p.add_argument('--batch', type=int, default=64); p.add_argument('--length', type=int, default=64)
    p.add_argument('--lr', type=float, default=5e-3); p.add_argument('--warmup', type=int, default=50)
    p.add_argument('--final-lr-frac', type=float, default=0.1); p.add_argument('--clip', type=float, default=1.0)
    p.add_argument('--gru', default='fast', choices=['trax', 'fast']); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--eval-at', type=float, nargs='*', default=[], help='also evaluate at these minutes (for the curve)')
    p.add_argument('--json', default=None)
    a = p.parse_args()
    budget = a.minutes * 60
    train_lines, eval_lines = split_lines(load_lines())
    elapsed = lambda: time.perf_counter() - t0
    def lr_schedule(step):                       # warm-up in steps, then linear decay in wall-clock time
        frac = min(1.0, elapsed() / budget)
        return a.lr * min(1.0, (step + 1) / a.warmup) * (1 - (1 - a.final_lr_frac) * frac)
    t0 = t_start
    model = GRULM(256, a.d_model, a.layers, gru=a.gru)
    task = training.TrainTask(labeled_data=data_generator(a.batch, a.length, train_lines, seed=a.seed),
                              loss_layer=tl.CrossEntropyLoss(), optimizer=trax.optimizers.Adam(a.lr, clip_grad_norm=a.clip),
                              lr_schedule=lr_schedule)
    with contextlib.redirect_stdout(io.StringIO()):
        loop = training.Loop(model, [task], random_seed=a.seed, eval_at=lambda s: False, checkpoint_at=lambda s: False)
    curve, pending = [], sorted(m for m in a.eval_at if m < a.minutes)
    eval_secs = 0.0
    def eval_now():
        nonlocal eval_secs
        te = time.perf_counter()
        em = GRULM(256, a.d_model, a.layers, gru=a.gru, mode='eval')
        em.init(trax.shapes.ShapeDtype((1, 1), np.int32)); em.weights = loop.model.weights
        r = evaluate(em, eval_lines)
        eval_secs += time.perf_counter() - te
        return r
    while elapsed() - eval_secs < budget:
        with contextlib.redirect_stdout(io.StringIO()): loop.run(5)
        if pending and elapsed() - eval_secs >= pending[0] * 60:
            r = eval_now(); m = (elapsed() - eval_secs) / 60
            curve.append(dict(minutes=m, step=loop.step, **r)); pending.pop(0)
            print(f'  {m:5.2f} min, step {loop.step}: {r["token_nats"]:.3f} nats/char (token-weighted)', flush=True)
    train_secs = elapsed() - eval_secs
    r = eval_now()
    curve.append(dict(minutes=train_secs / 60, step=loop.step, **r))
    chars = loop.step * a.batch * a.length
    print(f'config: {a.gru} GRU, d_model {a.d_model}, {a.layers} layer(s), batch {a.batch} x {a.length}, lr {a.lr} '
          f'(warm-up {a.warmup} steps, linear decay to {a.final_lr_frac:.0%} over the budget), clip {a.clip}')
    print(f'trained {train_secs/60:.2f} min wall-clock (incl. imports, data, compilation): {loop.step} steps, '
          f'{chars/train_secs:,.0f} padded chars/s')
    print(f"held-out ({r['lines']} lines, {r['chars']:,} chars): token-weighted {r['token_nats']:.3f} nats/char = {r['token_bits']:.3f} bits/char; "
          f"per-line mean {r['line_nats']:.3f} nats/char = {r['line_bits']:.3f} bits/char")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(args=vars(a), train_minutes=train_secs / 60, steps=loop.step, curve=curve), f, indent=2)

if __name__ == '__main__': main()
