#!/usr/bin/env python
"""CI check: lesson 01 runs top to bottom in a real JupyterLab, driven through its UI.

Starts `jupyter lab` (token auth on) on 127.0.0.1 over a temporary copy of `nbs/` whose lesson has
its saved outputs stripped, opens the lesson in headless Chromium (Playwright, system Chromium), runs
Run -> Run All Cells from the menu, waits until the kernel reports idle, and asserts what the run
produced: every code cell ran, the lesson's printed value and its figure are in the page, the kernel
is this venv's Python, and the notebook in the repository is untouched. Saves a screenshot to
`_docs/screenshots/jupyterlab_01.png` and always shuts the server down.

Run from the repository root with the project's venv active: `python .ci/jupyterlab_check.py`.
"""
import hashlib, json, os, re, secrets, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.error, urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
LESSON = 'nbs/01_rnn_math.ipynb'
EXPECTED_TEXT = '[[245, 245, 245]]'  # `one_product.T` in lesson 01: 1*1*2 + 9*9*3 = 245
SCREENSHOT = ROOT / '_docs' / 'screenshots' / 'jupyterlab_01.png'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']
SERVER_TIMEOUT = 120  # s: server answers the API
PAGE_TIMEOUT = 120    # s: notebook page loaded, kernel connected
RUN_TIMEOUT = 600     # s: all cells ran (nice -n 19 on 2 busy cores; normally ~1 min)

passed, failed = [], []


class CheckError(Exception): pass


def check(ok, what, detail=''):
    "Record one assertion; print it as it happens."
    (passed if ok else failed).append(what)
    print(f"  {'PASS' if ok else 'FAIL'}: {what}" + (f' ({detail})' if detail else ''), flush=True)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def sha256(p): return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def api(base, token, path, method='GET', timeout=5):
    req = urllib.request.Request(f'{base}{path}', method=method,
                                 headers={'Authorization': f'token {token}'})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
        return r.status, (json.loads(body) if body else None)


def stripped_copy(src, dst_root):
    "Copy settings.ini and nbs/ to `dst_root`, with the lesson's outputs and counts removed."
    shutil.copy2(ROOT / 'settings.ini', dst_root / 'settings.ini')  # the lesson's last cell runs nbdev_export
    shutil.copytree(ROOT / 'nbs', dst_root / 'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints'))
    nb = json.loads(src.read_text())
    saved = ''.join(''.join(o.get('data', {}).get('text/plain', '')) + ''.join(o.get('text', ''))
                    for c in nb['cells'] for o in c.get('outputs', []))
    if EXPECTED_TEXT not in saved:
        raise CheckError(f'{EXPECTED_TEXT!r} is not among the saved outputs of {LESSON}: '
                         'update EXPECTED_TEXT in .ci/jupyterlab_check.py')
    n_code = 0
    for c in nb['cells']:
        if c['cell_type'] == 'code':
            c['outputs'], c['execution_count'] = [], None
            n_code += 1
    (dst_root / LESSON).write_text(json.dumps(nb, indent=1))
    return n_code


def start_server(root_dir, port, token, log, env):
    jupyter = Path(sys.executable).parent / 'jupyter'
    cmd = [str(jupyter) if jupyter.exists() else sys.executable, *([] if jupyter.exists() else ['-m', 'jupyter']),
           'lab', '--no-browser', '--ip', '127.0.0.1', '--port', str(port), '--ServerApp.port_retries=0',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root_dir}',
           '--LabApp.news_url=None', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    if os.geteuid() == 0: cmd.append('--allow-root')  # CI containers run as root
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)


def wait_for_server(proc, base, token):
    "Poll the API with the token until the server reports its status; fail if it exits or times out."
    t0, last = time.monotonic(), ''
    while time.monotonic() - t0 < SERVER_TIMEOUT:
        if proc.poll() is not None:
            raise CheckError(f'jupyter lab exited with code {proc.returncode} before answering')
        try:
            status, body = api(base, token, '/api/status', timeout=2)
            if status == 200 and isinstance(body, dict) and 'started' in body:
                _, specs = api(base, token, '/api/kernelspecs')
                return time.monotonic() - t0, specs
        except (urllib.error.URLError, ConnectionError, OSError, ValueError) as e:
            last = repr(e)
        time.sleep(0.25)
    raise CheckError(f'jupyter lab did not answer {base}/api/status within {SERVER_TIMEOUT} s (last: {last})')


def kernel_state(base, token):
    "(kernel id, execution_state, kernel name) of the lesson's session, or Nones."
    _, sessions = api(base, token, '/api/sessions')
    for s in sessions or []:
        if s.get('path', '').endswith('01_rnn_math.ipynb') and s.get('kernel'):
            return s['kernel']['id'], s['kernel']['execution_state'], s['kernel']['name']
    return None, None, None


PROMPTS_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
                       .map(e => e.textContent.trim())"""


def run_in_browser(base, token, n_code, profile_dir, server_pid):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile_dir), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={'width': 1280, 'height': 1000})
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        try:
            return _drive(page, base, token, n_code, server_pid)
        finally:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            try:
                page.screenshot(path=str(SCREENSHOT))
                print(f'screenshot: {SCREENSHOT.relative_to(ROOT)}', flush=True)
            except Exception as e:
                print(f'could not save the screenshot: {e!r}', flush=True)
            ctx.close()


def _drive(page, base, token, n_code, server_pid):
    t0 = time.monotonic()
    page.set_default_timeout(PAGE_TIMEOUT * 1000)
    page.goto(f'{base}/lab/tree/{Path(LESSON).name}?token={token}', wait_until='domcontentloaded')
    # JupyterLab attaches cells progressively: wait until all of the lesson's code cells are in the page
    page.wait_for_function(f'n => ({PROMPTS_JS})().length === n', arg=n_code)
    # the notebook's kernel is up when the server reports it idle
    while True:
        kid, state, name = kernel_state(base, token)
        if state == 'idle': break
        if time.monotonic() - t0 > PAGE_TIMEOUT:
            raise CheckError(f'the kernel did not start within {PAGE_TIMEOUT} s (state: {state})')
        time.sleep(0.25)
    page.wait_for_function("() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
                           " return s && s.getAttribute('data-status') === 'idle'; }")
    t_open = time.monotonic() - t0
    print(f'lesson open, kernel {name!r} idle after {t_open:.1f} s', flush=True)

    prompts = page.evaluate(PROMPTS_JS)
    if len(prompts) != n_code or any(re.search(r'\d', p) for p in prompts):
        raise CheckError(f'expected {n_code} code cells without execution counts, the page shows {prompts}')

    # Run -> Run All Cells, through the menu bar
    page.locator('.lm-MenuBar-itemLabel', has_text=re.compile(r'^Run$')).click()
    page.locator('.lm-Menu-content .lm-Menu-itemLabel', has_text=re.compile(r'^Run All Cells$')).click()
    t1 = time.monotonic()
    page.wait_for_function(f"() => ({PROMPTS_JS})().some(p => /\\[(\\*|\\d+)\\]/.test(p))")
    while True:  # done when no cell is queued or running and the server reports the kernel idle
        prompts = page.evaluate(PROMPTS_JS)
        busy = any('*' in p for p in prompts)
        _, state, _ = kernel_state(base, token)
        if not busy and state == 'idle': break
        if time.monotonic() - t1 > RUN_TIMEOUT:
            raise CheckError(f'Run All Cells did not finish within {RUN_TIMEOUT} s (prompts: {prompts})')
        time.sleep(0.5)
    t_run = time.monotonic() - t1
    print(f'Run All Cells finished in {t_run:.1f} s', flush=True)

    # assertions on what the run put in the page
    ran = [p for p in prompts if re.fullmatch(r'\[\d+\]:', p)]
    texts = page.evaluate("() => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]"
                          ".map(e => e.textContent)")
    tracebacks = [t[:200] for t in texts if 'Traceback (most recent call last)' in t]
    check(len(ran) == n_code and not tracebacks, f'all {n_code} code cells ran without an error',
          f'{len(ran)} ran; errors: {tracebacks}' if len(ran) != n_code or tracebacks else '')
    hits = [t for t in texts if EXPECTED_TEXT in t]
    check(bool(hits), f'printed value {EXPECTED_TEXT} is in an output area')
    imgs = page.evaluate("() => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output img')]"
                         ".map(i => [i.naturalWidth, i.naturalHeight])")
    check(any(w > 0 and h > 0 for w, h in imgs), 'a figure (img) is in an output area',
          f'images (natural size): {imgs}')
    kernels = [p for p in psutil.Process(server_pid).children(recursive=True)
               if 'ipykernel_launcher' in ' '.join(p.cmdline())]
    exes = [p.cmdline()[0] for p in kernels]
    check(len(exes) == 1 and Path(exes[0]).parent == Path(sys.executable).parent,
          "the kernel runs this venv's Python", f'kernel: {exes}, venv: {sys.executable}')
    # bring the figure into view for the screenshot
    if imgs: page.locator('.jp-Notebook .jp-OutputArea-output img').first.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    return t_open, t_run


def stop_server(proc, base, token):
    "API shutdown, then SIGTERM/SIGKILL to the process group; kernels (own sessions) included."
    if proc.poll() is not None: return
    try: children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error: children = []
    try: api(base, token, '/api/shutdown', method='POST')
    except Exception as e: print(f'API shutdown failed ({e!r}); terminating the process group', flush=True)
    try: proc.wait(15)
    except subprocess.TimeoutExpired:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try: os.killpg(proc.pid, sig)
            except ProcessLookupError: break
            try: proc.wait(10); break
            except subprocess.TimeoutExpired: pass
    gone, alive = psutil.wait_procs(children, timeout=10)
    for p in alive:
        try: p.kill()
        except psutil.Error: pass


def main():
    os.chdir(ROOT)
    # a CI timeout's SIGTERM unwinds through the `finally` below, so the server never outlives the check
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    lesson = ROOT / LESSON
    before = sha256(lesson)
    token, port = secrets.token_hex(24), free_port()
    base = f'http://127.0.0.1:{port}'
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='charlm_jlab_') as tmp:
        tmp = Path(tmp)
        root, profile = tmp / 'root', tmp / 'chromium-profile'
        root.mkdir(); profile.mkdir()
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp / 'config'), JUPYTER_RUNTIME_DIR=str(tmp / 'runtime'),
                   JUPYTER_DATA_DIR=str(tmp / 'data'),
                   JUPYTERLAB_SETTINGS_DIR=str(tmp / 'settings'), JUPYTERLAB_WORKSPACES_DIR=str(tmp / 'ws'),
                   IPYTHONDIR=str(tmp / 'ipython'), PYTHONUNBUFFERED='1')
        env.pop('JUPYTER_TOKEN', None)
        # a fresh user: no news prompt (and no request to the news feed) over the lesson
        news = tmp / 'settings' / '@jupyterlab' / 'apputils-extension' / 'notification.jupyterlab-settings'
        news.parent.mkdir(parents=True)
        news.write_text(json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))
        log_path = tmp / 'jupyterlab.log'
        proc = None
        try:
            n_code = stripped_copy(lesson, root)
            with open(log_path, 'wb') as log:
                proc = start_server(root / 'nbs', port, token, log, env)
                t_up, specs = wait_for_server(proc, base, token)
                print(f'jupyter lab answered on {base} after {t_up:.1f} s; kernelspecs: '
                      f"{sorted(specs['kernelspecs'])}, default {specs['default']!r}", flush=True)
                if specs['default'] != 'python3':
                    raise CheckError(f"default kernelspec is {specs['default']!r}, expected 'python3'")
                run_in_browser(base, token, n_code, profile, proc.pid)
        except Exception as e:
            if not isinstance(e, CheckError):
                import traceback; traceback.print_exc()
            failed.append(f'{type(e).__name__}: {e}')
            print(f'  FAIL: {type(e).__name__}: {e}', flush=True)
            if log_path.exists():
                print('--- jupyter lab log (last 40 lines) ---')
                print('\n'.join(log_path.read_text(errors='replace').splitlines()[-40:]))
        finally:
            if proc is not None:
                stop_server(proc, base, token)
                print(f'server stopped (exit code {proc.returncode})', flush=True)
    check(sha256(lesson) == before, f'{LESSON} is unchanged on disk')
    print(f'total {time.monotonic() - t0:.1f} s')
    print(f'jupyterlab check: {len(passed)} passed, {len(failed)} failed')
    if failed:
        print('FAIL: ' + '; '.join(failed), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
