"""pytest sub-plugins, each a thin layer over the plain-library core.

``llmassert.plugin`` (the ``pytest11`` entry point) registers them (``SUBPLUGINS``).
Every module here must stay cheap to import: no provider SDK, no server library at import time.
"""
