"""A fake of the three upstreams (Shikimori, Kodik, aniwatch-api) for tests and the offline demo.

A development tool, not part of the installed ``kitsu`` distribution: run it from a checkout.
Standard library only (no Django): ``start_in_thread()`` for tests, ``python -m fake_upstream
--port 8765 --anime 300`` for the demo (then start Kitsu with ``KITSU_UPSTREAM_URL`` and
``KODIK_TOKEN`` set to the URL and token it prints). See ``server.py`` for the URL layout and
the ``/_control`` API, ``data.py`` for the generated catalog.
"""

from __future__ import annotations

from fake_upstream.data import FRIEREN_ID, FakeCatalog
from fake_upstream.server import DEFAULT_KODIK_TOKEN, FakeUpstream, start_in_thread

__all__ = ["DEFAULT_KODIK_TOKEN", "FRIEREN_ID", "FakeCatalog", "FakeUpstream", "start_in_thread"]
