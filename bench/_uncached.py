"""Imported first by the bench scripts that time compiling: no compilation cache (lesson 90) in this process or
the processes it starts, so compiling counts in their measurements, as in the committed results."""
import os
os.environ['CHARLM_COMPILE_CACHE'] = 'off'
os.environ.pop('JAX_COMPILATION_CACHE_DIR', None)
