"""The one title rule, shared by the demo catalog and the Shikimori sync (docs/titles.md).

* ``title_original``: the romaji title, Shikimori's ``name`` ("Sousou no Frieren").
* ``title_en`` / ``title_ru`` / ``title_ja``: Shikimori's ``english`` / ``russian`` /
  ``japanese``; ``synonyms``: Shikimori's ``synonyms``.
* ``title`` (the display title): the title in ``CATALOG_TITLE_LANGUAGE`` ("en", the default:
  English; "ru": Russian; "romaji": the original), falling back to the original when the anime
  has none in that language.

Every variant goes into the search document, so whichever is displayed, all stay searchable.
"""

from __future__ import annotations

from django.conf import settings

TITLE_LANGUAGES = ("en", "ru", "romaji")


def display_title(*, original: str, english: str | None, russian: str | None) -> str:
    language = settings.CATALOG_TITLE_LANGUAGE
    preferred = {"en": english, "ru": russian}.get(language)
    return (preferred or "").strip() or original
