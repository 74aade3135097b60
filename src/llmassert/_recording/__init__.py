"""Record & replay: a content-addressed store of model calls, the in-process replay interceptor,
the recording proxy for code that builds its own SDK clients, and the ``recordings`` CLI.

Nothing here imports a provider SDK or aiohttp at import time (the proxy imports aiohttp lazily).
"""

from __future__ import annotations

__all__: list[str] = []
