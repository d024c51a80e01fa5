#!/usr/bin/env python
"""No lesson uses a later one: every `charlm_nb.<module>` a notebook imports is exported by a notebook that comes
no later in the course (the sort order of `nbs/`). Exempt: the appendix's `compat` (imported first by every
lesson that uses Trax, by design) and `index` (the tour of the whole course). Exit 1 with each offence named."""
import json, re, sys
from pathlib import Path

nbs = sorted(Path(sys.argv[1] if len(sys.argv) > 1 else 'nbs').glob('[0-9]*.ipynb'))
EXEMPT = {'compat'}
IMPORT = re.compile(r'^\s*(?:from\s+charlm_nb\.(\w+)\s+import|import\s+charlm_nb\.(\w+))', re.M)

def code(nb): return [''.join(c['source']) for c in json.loads(nb.read_text())['cells']
                      if c['cell_type'] == 'code']
home = {}
for i, nb in enumerate(nbs):
    for src in code(nb):
        if m := re.search(r'^#\|\s*default_exp\s+(\w+)', src, re.M): home[m[1]] = (i, nb.name)
bad = []
for i, nb in enumerate(nbs):
    for src in code(nb):
        for m in IMPORT.finditer(src):
            mod = m[1] or m[2]
            if mod in EXEMPT: continue
            if mod not in home: bad.append(f'{nb.name}: imports charlm_nb.{mod}, which no notebook exports')
            elif home[mod][0] > i: bad.append(f'{nb.name}: imports charlm_nb.{mod} from the later {home[mod][1]}')
for b in bad: print(b)
print(f'lesson order: {len(nbs)} notebooks, {len(home)} modules, {len(bad)} imports from a later lesson')
sys.exit(1 if bad else 0)
