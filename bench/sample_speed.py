#!/usr/bin/env python
"""Sampling speed: 200 characters with the course's re-run `predict` vs the stateful predict-mode sampler.

Same weights for both (a trained model from --output-dir, or a freshly initialised default-size GRULM: speed does
not depend on training), greedy decoding, end-of-line ignored so that both produce every character; best of
--repeat runs after a warm-up run (compilation is not counted; the warm-up is reported separately).

    python bench/sample_speed.py [--output-dir runs/default] [--num-chars 200]
"""
import _uncached  # noqa: F401  (first: compiling counts, no compilation cache)
import argparse, json, time
import numpy as np
import charlm_nb.compat
import jax, trax
from charlm_nb.model import GRULM
from charlm_nb.checkpoint import load_model
from charlm_nb.model import config_of
from charlm_nb.sampling import sample_stream, time_samplers

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--output-dir', default=None); p.add_argument('--num-chars', type=int, default=200)
    p.add_argument('--repeat', type=int, default=3); p.add_argument('--gru', default='trax', choices=['trax', 'fast'])
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    if a.output_dir: model = load_model(a.output_dir, gru=a.gru)
    else:
        model = GRULM(mode='eval', gru=a.gru); model.init(trax.shapes.ShapeDtype((1, 1), np.int32), rng=jax.random.PRNGKey(0))
    t = time.perf_counter(); ''.join(sample_stream(model, 'to be', 5, temperature=0)); first = time.perf_counter() - t
    times = time_samplers(model, a.num_chars, repeat=a.repeat)
    print(f"model: {config_of(model)} ({'trained: ' + a.output_dir if a.output_dir else 'random init'}); {a.num_chars} characters")
    for k, v in times.items(): print(f'{k:>14}: {v:7.3f} s   {v / a.num_chars * 1e3:7.2f} ms/char')
    print(f'stateful sampler first call (compiles its step): {first:.2f} s')
    print(f"ratio: stateful is {times['naive predict'] / times['stateful']:.1f}x faster than naive predict")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(args=vars(a), config=config_of(model), first_call_s=first, seconds=times), f, indent=2)

if __name__ == '__main__': main()
