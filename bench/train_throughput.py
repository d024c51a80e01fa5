#!/usr/bin/env python
"""Training throughput of the default GRULM on this machine (CPU).

Measures, in one run, characters/second of a full training step (forward, backward, Adam) for:
  - charlm_nb's GRULM with Trax's tl.GRU (the course's layer),
  - the same model with charlm_nb.fast_gru.FastGRU, its products in float32 ('fast') and in bfloat16 ('fast_bf16',
    float32 weights and sums),
  - the same architecture in PyTorch (torch.nn.GRU; optional: `pip install torch==2.13.0`),
and the machine's matmul rate in float32 and in bfloat16 (float32 sums), to report the share of the float32 rate
each training step reaches (and, for the bfloat16 version, of the bfloat16 rate too).
Each measurement runs in its own process, so that peak memory (max RSS) is its own; the process also records its
peak at four points (framework imported, model and optimizer built, first step done, all steps done), which shows
where the memory goes (and, for JAX, the working memory XLA reserves for the compiled step). Everything is measured
`--rounds` times, the rounds interleaved (a shared machine's slower spells then slow every measurement alike), and
each measurement keeps its best round. Each step's loss is read back, as `charlm train` does to report it (so
steps do not queue up), and each run counts its steps' page faults. With `--huge-pages`, FastGRU bfloat16 and
PyTorch are also measured with glibc's malloc in transparent huge pages (`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`,
glibc 2.35+), in the same rounds: a setting we tried and did not keep (the Benchmarks page). With
`--default-malloc`, FastGRU bfloat16 is also measured with glibc's malloc as it comes (`CHARLM_MALLOC=default`):
without `charlm_nb.compat`'s `lean_malloc`, which every run of charlm_nb has (lesson 90). With `--no-donate`, FastGRU
bfloat16 is also measured with trax's one-device step as it comes (`CHARLM_DONATE=off`): without the donation of
the weights and slots nobody else holds (lesson 90), which every run of charlm_nb has. JAX's compiled
programs are kept on disk (charlm_nb's compilation cache,
lesson 90): each JAX implementation starts with an empty cache, so its first round compiles, as a first run does,
and its later rounds load the programs. Peak memory is reported for both: the first round's, and the largest of
the later rounds'.

    python bench/train_throughput.py [--batch 32 --length 128 --d-model 512 --layers 2 --steps 20 --rounds 3]
                                     [--huge-pages] [--default-malloc] [--no-donate]
"""
import argparse, json, os, platform, resource, subprocess, sys, time

def step_flops(B, L, d, n_layers, V):
    "FLOPs of one training step: forward = per GRU layer 2*B*L*(d+d)*3d (the two dense products on [x, h]) + output layer 2*B*L*d*V; backward = 2x forward."
    forward = n_layers * 2 * B * L * (2 * d) * (3 * d) + 2 * B * L * d * V
    return 3 * forward

def measure_matmul(n=2048, reps=10, rounds=5, dtype='float32'):
    "Best-of-`rounds` matmul rate (GFLOP/s) of an n x n product in JAX (float32 sums): the practical ceiling."
    import jax, jax.numpy as jnp
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n)).astype(dtype)
    b = jax.random.normal(jax.random.PRNGKey(1), (n, n)).astype(dtype)
    f = jax.jit(lambda a, b: jnp.matmul(a, b, preferred_element_type=jnp.float32)); f(a, b).block_until_ready()
    best = float('inf')
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps): f(a, b).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 * reps / best / 1e9

PHASES = {}          # point of the run -> max RSS so far (MB), recorded by `mark`
PAGE_FAULTS = []     # the timed steps' page faults (minor: memory the kernel maps in), per step
def mark(phase): PHASES[phase] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def timed(step, steps):
    "Seconds per call of `step(i)`, i = 0..steps-1; its page faults per call go to PAGE_FAULTS."
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t = time.perf_counter()
    for i in range(steps): step(i)
    secs = (time.perf_counter() - t) / steps
    PAGE_FAULTS.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps)
    return secs

def machine():
    "This machine: its CPU's name (Linux's /proc/cpuinfo), cores, Python; and today's date."
    try:
        with open('/proc/cpuinfo') as f: info = f.read().splitlines()
        cpu = next(l.split(':', 1)[1].strip() for l in info if l.startswith('model name'))
        have = set(next(l.split(':', 1)[1] for l in info if l.startswith('flags')).split())
        flags = sorted(have & {'avx2', 'avx512f', 'avx512_bf16', 'amx_bf16'})
    except (OSError, StopIteration): cpu, flags = platform.processor() or platform.machine(), []
    return dict(cpu=cpu, flags=flags, cores=len(os.sched_getaffinity(0)), python=platform.python_version(),
                date=time.strftime('%Y-%m-%d'))

def batch(B, L, V, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    x = rng.integers(2, V, size=(B, L)).astype(np.int32)
    return x, x, np.ones((B, L), np.float32)

MALLOC = {}         # what charlm_nb.compat's lean_malloc set in this process (JAX runs)
DONATE = {}         # whether the trainer donated its arrays, and how often it copied them first (JAX runs)

def measure_trax(gru, B, L, d, n_layers, V, steps, warmup):
    import charlm_nb.compat
    MALLOC.update(charlm_nb.compat.install()['malloc'])
    import numpy as np
    import jax, trax
    from trax import layers as tl
    from charlm_nb.model import GRULM
    jax.numpy.zeros(1).block_until_ready(); mark('imported')
    model = tl.Serial(GRULM(V, d, n_layers, gru=gru), tl.CrossEntropyLoss())
    data = batch(B, L, V)
    model.init(trax.shapes.signature(data))
    opt = trax.optimizers.Adam(0.0005); opt.tree_init(model.weights)      # as training.Loop does
    trainer = trax.optimizers.Trainer(model, opt); mark('model built')
    rng = jax.random.PRNGKey(0)
    for i in range(warmup):
        jax.block_until_ready(trainer.one_step(data, rng, step=i))
        if i == 0: mark('first step')          # compiled and run once
    def step(i):
        loss, _ = trainer.one_step(data, rng, step=warmup + i)
        float(np.mean(np.asarray(loss)))        # read back, as charlm train's StepLosses does
    secs = timed(step, steps)
    DONATE.update(donates=bool(getattr(trainer._accelerated_update_fn, 'donates', False)),
                  private_copies=getattr(trainer, 'private_copies', 0))
    mark('all steps')       # then, outside the measurement: the compiled step's working memory
    try:                    # (Trax's internals, one device; nothing is lost if it fails)
        m = trainer._accelerated_model_with_loss
        compiled = trainer._accelerated_update_fn.lower(
            (m.weights, trainer._slots), 0, trainer._opt_params, data, m.state, rng).compile()
        PHASES['compiled temp'] = compiled.memory_analysis().temp_size_in_bytes / 2**20
    except Exception: pass
    return secs

def measure_torch(B, L, d, n_layers, V, steps, warmup):
    import torch, torch.nn as nn
    torch.set_num_threads(os.cpu_count()); torch.manual_seed(0); torch.zeros(1); mark('imported')
    class LM(nn.Module):
        def __init__(s):
            super().__init__()
            s.emb, s.gru, s.out = nn.Embedding(V, d), nn.GRU(d, d, num_layers=n_layers, batch_first=True), nn.Linear(d, V)
        def forward(s, x):
            x = torch.nn.functional.pad(x, (1, 0))[:, :-1]          # ShiftRight
            return torch.log_softmax(s.out(s.gru(s.emb(x))[0]), -1)
    m = LM(); opt = torch.optim.Adam(m.parameters(), lr=0.0005); mark('model built')
    x, _, mask = (torch.as_tensor(a) for a in batch(B, L, V))
    x = x.long()
    def step():
        opt.zero_grad()
        logp = m(x)
        loss = -(logp.gather(-1, x[..., None])[..., 0] * mask).sum() / mask.sum()
        loss.backward(); opt.step()
        return loss
    for i in range(warmup):
        step()
        if i == 0: mark('first step')
    return timed(lambda i: step().item(), steps)       # read back, as for JAX

def child(args):
    B, L, d, n, V = args.batch, args.length, args.d_model, args.layers, args.vocab
    if args.only == 'matmul': secs = None; extra = dict(gflops=measure_matmul(), gflops_bf16=measure_matmul(dtype='bfloat16'))
    elif args.only.startswith('torch'): secs = measure_torch(B, L, d, n, V, args.steps, args.warmup); extra = {}
    else: secs = measure_trax(args.only.split('-')[0].removesuffix('_hugepages'), B, L, d, n, V, args.steps, args.warmup); extra = {}
    if 'all steps' not in PHASES: mark('all steps')
    temp = PHASES.pop('compiled temp', None)
    print(json.dumps(dict(secs=secs, max_rss_mb=PHASES['all steps'], rss_phases_mb=PHASES,
                          **({} if temp is None else dict(compiled_temp_mb=temp)),
                          **(dict(page_faults_per_step=PAGE_FAULTS[0]) if PAGE_FAULTS else {}),
                          **(dict(malloc=MALLOC, **DONATE) if not args.only.startswith(('matmul', 'torch')) else {}),
                          **extra)))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=32); p.add_argument('--length', type=int, default=128)
    p.add_argument('--d-model', type=int, default=512); p.add_argument('--layers', type=int, default=2)
    p.add_argument('--vocab', type=int, default=256); p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=3); p.add_argument('--only', default=None, help=argparse.SUPPRESS)
    p.add_argument('--rounds', type=int, default=3, help='measure everything this many times, interleaved; keep the best')
    p.add_argument('--huge-pages', action='store_true',
                   help='also measure FastGRU bfloat16 and PyTorch with malloc in huge pages (glibc 2.35+)')
    p.add_argument('--default-malloc', action='store_true',
                   help="also measure FastGRU bfloat16 with glibc's malloc as it comes (without lean_malloc)")
    p.add_argument('--no-donate', action='store_true',
                   help="also measure FastGRU bfloat16 with trax's step as it comes (without donation)")
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    args = p.parse_args()
    if args.rounds < 1: p.error(f'--rounds must be at least 1, got {args.rounds}')
    if args.only: return child(args)
    B, L, d, n, V = args.batch, args.length, args.d_model, args.layers, args.vocab
    import tempfile
    def with_huge_pages(env):     # glibc's malloc: big blocks in transparent huge pages
        keep = [v for v in env.get('GLIBC_TUNABLES', '').split(':') if v and not v.startswith('glibc.malloc.hugetlb=')]
        return dict(env, GLIBC_TUNABLES=':'.join(keep + ['glibc.malloc.hugetlb=1']))
    caches = tempfile.TemporaryDirectory()      # one empty compilation cache per implementation
    def run(which):
        # charlm_nb keeps compiled programs on disk (lesson 90): the first round starts with an empty
        # cache (it compiles, as any first run), the later rounds load the programs it kept
        env = dict(os.environ, CHARLM_COMPILE_CACHE=os.path.join(caches.name, which))
        env.pop('JAX_COMPILATION_CACHE_DIR', None)
        if which.endswith('_hugepages'): env = with_huge_pages(env)
        env.pop('CHARLM_MALLOC', None)          # lean_malloc, as in every charlm_nb run, unless:
        if which.endswith('-glibc'): env['CHARLM_MALLOC'] = 'default'
        env.pop('CHARLM_DONATE', None)          # the step donates, as in every charlm_nb run, unless:
        if which.endswith('-nodonate'): env['CHARLM_DONATE'] = 'off'
        r = subprocess.run([sys.executable, __file__, '--only', which] + sys.argv[1:], capture_output=True, text=True,
                           env=env)
        if r.returncode: return dict(error=(r.stderr.strip().splitlines() or ['failed'])[-1])
        return json.loads(r.stdout.strip().splitlines()[-1])
    import importlib.util
    has_torch = importlib.util.find_spec('torch') is not None
    which = ['matmul', 'trax', 'fast', 'fast_bf16'] + (['torch'] if has_torch else [])
    if args.huge_pages: which += [w + '_hugepages' for w in which if w in ('fast_bf16', 'torch')]
    if args.default_malloc: which += ['fast_bf16-glibc']
    if args.no_donate: which += ['fast_bf16-nodonate']
    # rounds interleaved, so a slower spell of a shared machine slows every measurement alike;
    # each keeps its best round (fastest step, highest matmul rate)
    rounds = [{w: run(w) for w in which} for _ in range(args.rounds)]
    def best(w):
        ok = [r[w] for r in rounds if 'error' not in r[w]]
        if not ok: return rounds[0][w]
        if w == 'matmul':       # each rate its own best
            return dict(ok[0], rounds=len(ok), **{k: max(r[k] for r in ok)
                                                  for k in ('gflops', 'gflops_bf16')})
        out = dict(min(ok, key=lambda r: r['secs']), rounds=len(ok),
                   secs_rounds=[r[w].get('secs') for r in rounds])     # each round's, in order
        if not w.startswith('torch') and 'error' not in rounds[0][w]:
            # peak memory: the first round's (compiling), and the largest of the later ones (programs loaded)
            out.update(max_rss_mb=rounds[0][w]['max_rss_mb'], rss_phases_mb=rounds[0][w]['rss_phases_mb'])
            warm = [r[w] for r in rounds[1:] if 'error' not in r[w]]
            if warm:
                top = max(warm, key=lambda r: r['max_rss_mb'])
                out.update(max_rss_mb_warm=top['max_rss_mb'], rss_phases_mb_warm=top['rss_phases_mb'])
        return out
    res = {w: best(w) for w in which}
    caches.cleanup()
    flops, chars, peak = step_flops(B, L, d, n, V), B * L, res['matmul'].get('gflops')
    here = machine()
    print(f"machine: {here['cpu']}, {here['cores']} cores; Python {here['python']}; {here['date']}")
    print(f'model: GRULM vocab {V}, d_model {d}, {n} GRU layers; batch {B} x length {L} = {chars} characters per step')
    print(f'FLOPs per training step = 3 x [n_layers * 2*B*L*(2d)*(3d) + 2*B*L*d*V] = {flops/1e9:.1f} GFLOP')
    print(f"matmul rate (2048x2048, JAX): float32 {peak:.1f} GFLOP/s, bfloat16 {res['matmul']['gflops_bf16']:.1f} GFLOP/s")
    print(f"{'implementation':<22}{'ms/step':>9}{'chars/s':>10}{'GFLOP/s':>9}{'% matmul':>9}{'max RSS MB':>11}"
          f"{'(cache)':>8}")
    names = dict(trax='trax tl.GRU', fast='charlm_nb FastGRU', fast_bf16='FastGRU bfloat16', torch='PyTorch nn.GRU',
                 fast_bf16_hugepages='  ... huge pages', torch_hugepages='  ... huge pages',
                 **{'fast_bf16-glibc': "  ... glibc's malloc", 'fast_bf16-nodonate': '  ... no donation'})
    for w in ('trax', 'fast', 'fast_bf16', 'fast_bf16_hugepages', 'fast_bf16-glibc', 'fast_bf16-nodonate', 'torch',
              'torch_hugepages'):
        if w.endswith(('_hugepages', '-glibc', '-nodonate')) and w not in res: continue
        if w not in res: print(f'{names[w]:<22} not measured (torch not installed: pip install torch==2.13.0)'); continue
        r = res[w]
        if 'error' in r: print(f'{names[w]:<22} failed: {r["error"]}'); continue
        r['chars_per_s'], r['gflops'] = chars / r['secs'], flops / r['secs'] / 1e9
        print(f"{names[w]:<22}{r['secs']*1e3:9.1f}{r['chars_per_s']:10,.0f}{r['gflops']:9.1f}{100*r['gflops']/peak:8.1f}%{r['max_rss_mb']:11,.0f}"
              + (f"{r['max_rss_mb_warm']:8,.0f}" if 'max_rss_mb_warm' in r else ''))
    ratio = lambda a, b: res[a]['chars_per_s'] / res[b]['chars_per_s'] if 'chars_per_s' in res.get(a, {}) and 'chars_per_s' in res.get(b, {}) else float('nan')
    print(f"ratios: FastGRU / tl.GRU = {ratio('fast', 'trax'):.2f}x;  FastGRU / PyTorch = {ratio('fast', 'torch'):.2f}x;  "
          f"FastGRU bfloat16 / PyTorch = {ratio('fast_bf16', 'torch'):.2f}x;  tl.GRU / PyTorch = {ratio('trax', 'torch'):.2f}x")
    print('max RSS: the first round (compiling); (cache): the largest later round (compiled programs loaded from disk)')
    print('max RSS (MB) so far, at each point of a run (the first round):')
    for w in ('trax', 'fast', 'fast_bf16', 'torch'):
        if 'rss_phases_mb' in res.get(w, {}):
            print(f'{names[w]:<22}' + '  '.join(f'{k} {v:,.0f}' for k, v in res[w]['rss_phases_mb'].items())
                  + (f"  (the compiled step's working memory: {res[w]['compiled_temp_mb']:,.0f})"
                     if 'compiled_temp_mb' in res[w] else ''))
    if 'gflops' in res.get('fast_bf16', {}):
        print(f"FastGRU bfloat16: {res['fast_bf16']['gflops'] / res['matmul']['gflops_bf16']:.0%} of the bfloat16 matmul rate")
    for w in ('fast_bf16', 'torch'):
        hp = res.get(w + '_hugepages', {})
        if 'secs' in res.get(w, {}) and 'secs' in hp:
            pairs = sorted(p / h for h, p in zip(hp['secs_rounds'], res[w]['secs_rounds']) if h and p)
            print(f"huge pages: {names[w]} {hp['secs']*1e3:.0f} ms/step against {res[w]['secs']*1e3:.0f} ms without, "
                  f"{res[w]['secs'] / hp['secs']:.2f}x as fast; round by round: " + ', '.join(f'{x:.2f}x' for x in pairs)
                  + f"; page faults per step {hp['page_faults_per_step']:,.0f} against {res[w]['page_faults_per_step']:,.0f}")
    peaks = lambda r: f"{r['max_rss_mb']:,.0f} MB" + (f", {r['max_rss_mb_warm']:,.0f} (cache)" if 'max_rss_mb_warm' in r else '')
    ours = res.get('fast_bf16', {})
    for what, key, other_name in (('lean_malloc', 'fast_bf16-glibc', "with glibc's malloc as it comes"),
                                  ('donation', 'fast_bf16-nodonate', 'without')):
        other = res.get(key, {})
        if 'secs' in ours and 'secs' in other:
            print(f"{what}: FastGRU bfloat16 max RSS {peaks(ours)}, {ours['secs']*1e3:.0f} ms/step; "
                  f"{other_name} {peaks(other)}, {other['secs']*1e3:.0f} ms/step")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(config=vars(args), machine=here, flops_per_step=flops, results=res), f, indent=2)

if __name__ == '__main__': main()
