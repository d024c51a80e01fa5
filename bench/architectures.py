#!/usr/bin/env python
"""GRU vs LSTM vs Transformer on the same CPU budget: train each language model for N minutes of wall-clock time with
the library's `train_model(minutes=N, model_fn=...)`, then report held-out loss curves, weights, chars/s, FLOPs/char
and samples as JSON (rendered by lesson 13).

    python bench/architectures.py --minutes 2 [--eval-every-minutes 0.5] [--json bench/results/architectures_2.json]

Same data, split and training function for all three: lesson 4's corpus (last 1,000 lines held out),
length-bucketed batches of ~`tokens` slots, Adam with warm-up, clipping and a linear decay over the wall-clock
budget (lesson 5). Each model has its own size and learning rate (`CONFIGS` below; `--set` changes them).

The curve. `train_model`'s clock starts before the model is built (compilation counts) and the learning rate decays
over the whole budget, so the curve must come from ONE run: resuming in steps of minutes would restart the decay.
Evaluating inside the run would spend the budget on evaluation (more for the slower models). So a thread takes a
copy of the weights every `--eval-every-minutes` of that clock (between two steps; the training does not wait for
it), and after the run every copy is evaluated with
`charlm_nb.perplexity.evaluate` on all held-out lines, both conventions. The last point is the final weights.

chars/s: useful (non-padding) characters and padded slots of the `steps` batches trained on (the batch stream is
seeded, so they are counted by drawing the same batches again), divided by the training seconds `train_model`
records (imports excluded; model building, compilation and the final checkpoint included).
"""
import _uncached  # noqa: F401  (first: compiling counts, no compilation cache)
from importlib.metadata import version
import argparse, json, os, platform, shlex, tempfile, threading, time
import numpy as np
import charlm_nb.compat
import jax, trax
from charlm_nb.data import load_lines, split_lines
from charlm_nb.model import n_weights
from charlm_nb.train import train_model
from charlm_nb.batches import length_batches
from charlm_nb.packing import packed_batches
from charlm_nb.checkpoint import checkpoint_seconds
from charlm_nb.perplexity import evaluate
from charlm_nb.sampling import predict
from charlm_nb.architectures import make_model, flops_per_char, check_results

CONFIGS = {   # size and recipe of each model for a few minutes on a 2-core CPU
    'gru': dict(config=dict(d_model=256, n_layers=1, gru='fast'),
                recipe=dict(lr=5e-3, warmup=50, final_lr=0.1, clip=1.0, tokens=4096, max_length=128)),
    'lstm': dict(config=dict(d_model=256, n_layers=1),
                 recipe=dict(lr=5e-3, warmup=50, final_lr=0.1, clip=1.0, tokens=4096, max_length=128)),
    'transformer': dict(config=dict(d_model=128, d_ff=512, n_layers=2, n_heads=4, max_len=128),
                        recipe=dict(lr=3e-3, warmup=50, final_lr=0.1, clip=1.0, tokens=4096, max_length=128)),
}
PREFIXES = ('to be', 'the king ', 'what ')


class Snapshots:
    "Every `every` seconds after `start(model)`, keep (seconds, weights) of `model` while another thread trains it."
    def __init__(self, every:float):
        self.every, self.points, self._stop = every, [], threading.Event()

    def _grab(self):
        for _ in range(100):           # the training thread replaces model.weights layer by layer after each step:
            a = jax.tree_util.tree_leaves(self.model.weights)     # accept two reads 20 ms apart that agree
            time.sleep(0.02)
            b = jax.tree_util.tree_leaves(self.model.weights)
            if not (a and len(a) == len(b) and all(x is y for x, y in zip(a, b))): continue
            try: return [np.asarray(x) for x in a]        # while a step runs, the layers hold its donated inputs,
            except Exception: continue                    # deleted (lesson 90), or while it compiles, tracers:
                                                          # those are refused here, and read again
        return None

    def _run(self):
        k = 1
        while not self._stop.wait(max(0.0, self.t0 + k * self.every - time.perf_counter())):
            t, w = time.perf_counter() - self.t0, self._grab()
            if w is not None: self.points.append((t, w))
            k += 1

    def start(self, model):
        self.model, self.t0 = model, time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True); self._thread.start()

    def stop(self):
        self._stop.set(); self._thread.join()


def count_chars(train_lines, steps, recipe, seed, n_dev):
    "Useful (non-padding) characters, padded slots, and the row width averaged over slots, of `steps` batches."
    batches = packed_batches if recipe.get('batching') == 'pack' else length_batches
    gen = batches(train_lines, recipe['tokens'], recipe['max_length'], seed=seed, multiple=n_dev)
    next(gen)                                       # the Loop's sample batch: used to initialise, not trained on
    useful = padded = width = 0
    for _ in range(steps):
        x, _, mask = next(gen)
        useful += int(mask.sum()); padded += x.size; width += x.size * x.shape[1]
    return useful, padded, width / padded


def run_one(arch, spec, minutes, every_minutes, lines, seed, n_samples, sample_chars, temperature):
    snaps = Snapshots(every_minutes * 60)
    def model_fn(mode):
        m = make_model(arch, mode, **spec['config'])
        if mode == 'train': snaps.start(m)      # train_model calls this right after starting its clock
        return m
    with tempfile.TemporaryDirectory() as d:
        cfg = spec['config']
        try:
            loop, _ = train_model(f'{d}/run', minutes=minutes, model_fn=model_fn, lines=lines, seed=seed,
                                  d_model=cfg['d_model'], n_layers=cfg['n_layers'], eval_every=10**9,
                                  progress=False, **spec['recipe'])
        finally: snaps.stop()
        seconds = checkpoint_seconds(f'{d}/run')
    final = jax.tree_util.tree_leaves(loop.model.weights)
    treedef = jax.tree_util.tree_structure(loop.model.weights)
    em = make_model(arch, 'eval', **cfg)
    em.init(trax.shapes.ShapeDtype((1, 1), np.int32))
    curve = []
    shapes = [np.shape(x) for x in final]          # (before the Loop initialises the model it has no weights)
    points = [(t, w) for t, w in snaps.points if t < seconds - 1 and [np.shape(x) for x in w] == shapes]
    points.append((seconds, final))
    for t, w in points:
        em.weights = jax.tree_util.tree_unflatten(treedef, w)
        curve.append(dict(minutes=t / 60, **evaluate(em, lines[1])))
        print(f'  {arch:>11} {t/60:6.2f} min: {curve[-1]["token_nats"]:.3f} nats/char (token-weighted)', flush=True)
    em.weights = jax.tree_util.tree_unflatten(treedef, final)
    samples = [dict(prefix=p, text=predict(sample_chars, p, em, temperature=temperature, rng=[seed, i]))
               for i, p in enumerate(PREFIXES[:n_samples])]
    n_dev = jax.local_device_count()
    chars, padded, width = count_chars(lines[0], loop.step, spec['recipe'], seed, n_dev)
    fwd = flops_per_char(arch, width, **cfg)           # the attention context: the row width
    return dict(config=cfg, recipe=spec['recipe'], weights=n_weights(loop.model), steps=loop.step,
                seconds=seconds, chars=chars, padded_chars=padded, chars_per_s=chars / seconds,
                padded_chars_per_s=padded / seconds,
                flops_per_char=dict(context=width, forward=fwd, train=3 * fwd),
                curve=curve, samples=samples, sampler='charlm_nb.sampling.predict',
                temperature=temperature)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--minutes', type=float, required=True, help='wall-clock training budget per model')
    p.add_argument('--eval-every-minutes', type=float, default=None,
                   help='minutes between curve points (default: 1 for budgets of 5 minutes or more, else budget/4)')
    p.add_argument('--json', default=None, help='output (default: bench/results/architectures_<minutes>.json)')
    p.add_argument('--models', nargs='+', default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--samples', type=int, default=3, help=f'samples per model (at most {len(PREFIXES)})')
    p.add_argument('--sample-chars', type=int, default=100)
    p.add_argument('--temperature', type=float, default=0.8)
    p.add_argument('--set', nargs='+', default=[], metavar='MODEL.KEY=VALUE',
                   help='change a size or recipe setting, e.g. transformer.n_layers=2 gru.lr=0.003')
    a = p.parse_args()
    configs = json.loads(json.dumps(CONFIGS))
    for item in a.set:
        try:
            (arch, key), value = item.split('=')[0].split('.'), json.loads(item.split('=')[1])
            part = next(k for k in ('config', 'recipe') if key in configs[arch][k])
        except Exception: p.error(f'--set {item}: expected MODEL.KEY=VALUE with a key of CONFIGS in {__file__}')
        configs[arch][part][key] = value
    if 'transformer' in a.models and max(map(len, PREFIXES)) + a.sample_chars > configs['transformer']['config']['max_len']:
        p.error('--sample-chars: the samples would be longer than the transformer\'s max_len')
    every = a.eval_every_minutes or (1.0 if a.minutes >= 5 else a.minutes / 4)
    path = a.json or f'bench/results/architectures_{a.minutes:g}.json'
    command = f'python bench/architectures.py --minutes {a.minutes:g} --eval-every-minutes {every:g}'
    if a.models != list(CONFIGS): command += ' --models ' + ' '.join(a.models)
    if a.seed: command += f' --seed {a.seed}'
    if a.set: command += ' --set ' + ' '.join(a.set)
    command += f' --json {shlex.quote(path)}'
    print(f'reproduce with: {command}', flush=True)
    lines = split_lines(load_lines())
    res = dict(command=command, minutes=a.minutes, eval_every_minutes=every, seed=a.seed,
               machine=dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                            devices=jax.local_device_count(), python=platform.python_version(),
                            jax=jax.__version__, trax=version('trax')),
               heldout=dict(lines=len(lines[1])), models={})
    for arch in a.models:
        print(f'{arch}: training for {a.minutes:g} min ...', flush=True)
        r = res['models'][arch] = run_one(arch, configs[arch], a.minutes, every, lines, a.seed, a.samples,
                                          a.sample_chars, a.temperature)
        last = r['curve'][-1]
        res['heldout']['chars'] = last['chars']
        print(f"{arch:>11}: {r['weights']:,} weights, {r['steps']} steps in {r['seconds']:.0f} s, "
              f"{r['chars_per_s']:,.0f} chars/s ({r['padded_chars_per_s']:,.0f} padded), "
              f"{r['flops_per_char']['train']/1e6:.2f} MFLOP/char (training); held-out "
              f"{last['token_nats']:.3f} nats/char token-weighted, {last['line_nats']:.3f} per-line mean", flush=True)
        for s in r['samples']: print(f'             {s["text"]!r}')
    check_results(res)
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f: json.dump(res, f, indent=2)
    print(f'wrote {path}\nreproduce with: {command}')


if __name__ == '__main__': main()
