"""A fake of the three upstreams (Shikimori, Kodik, aniwatch-api) for tests and the offline demo.

Standard library only (no Django): ``start_in_thread()`` for tests, ``python -m
ingestion.fake_upstream --port 8765 --anime 300`` for the demo. See ``server.py`` for the URL
layout and the ``/_control`` API, ``data.py`` for the generated catalog.
"""

from __future__ import annotations

from ingestion.fake_upstream.data import FRIEREN_ID, FakeCatalog
from ingestion.fake_upstream.server import DEFAULT_KODIK_TOKEN, FakeUpstream, start_in_thread

__all__ = ["DEFAULT_KODIK_TOKEN", "FRIEREN_ID", "FakeCatalog", "FakeUpstream", "start_in_thread"]
