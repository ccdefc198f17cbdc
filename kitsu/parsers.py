"""Request body parsing for the API (DEFAULT_PARSER_CLASSES)."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's parser, plus: JSON nested deeper than the interpreter's recursion limit is a 400
    (the stdlib decoder raises ``RecursionError``, which DRF does not expect)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply") from exc
