#!/usr/bin/env python
"""No code cell of a notebook ends in ';'. IPython's ';' hides a cell's value, but execnb (which `nbdev_test` and the
saved outputs use) then drops everything the cell printed too, so a result the lesson prints would silently vanish
from the site. execnb's rule is the cell's text, right-stripped, ending in ';' (a final comment included), and so is
this check's. End a plotting cell with `plt.show()` instead. Exit 1 with each offending cell named."""
import json, sys
from pathlib import Path

nbs = sorted(Path(sys.argv[1] if len(sys.argv) > 1 else 'nbs').glob('*.ipynb'))
bad = []
for nb in nbs:
    for i, c in enumerate(json.loads(nb.read_text())['cells']):
        if c['cell_type'] == 'code' and ''.join(c['source']).rstrip().endswith(';'):
            bad.append(f"{nb.name}: cell {i} ({c.get('id')}) ends in ';': execnb drops what it prints; "
                       f"end it with plt.show() or without ';'")
for b in bad: print(b)
print(f"cell endings: {len(nbs)} notebooks, {len(bad)} code cells ending in ';'")
sys.exit(1 if bad else 0)
