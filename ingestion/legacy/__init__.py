"""The cut-over import of the old FastAPI backend's database (``manage.py import_legacy``).

``source`` reads the old database (read-only), ``report`` counts what happened, ``importer``
writes Kitsu's rows in batches, keyed by the old UUIDs (docs/cutover.md).
"""
