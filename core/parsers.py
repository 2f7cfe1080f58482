from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.controlchars import control_path


class SafeJSONParser(JSONParser):
    """DRF's parser catches ValueError only; JSON nested thousands of levels deep raises
    RecursionError in the json module, which would be a 500. Both are a 400 here, and so
    is a string carrying NUL or another control character (core.guard), named by its
    field's path."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc
        where = control_path(data)
        if where:
            # Imported here: core.errors imports DRF's views, which import this parser.
            from core.errors import ApplicationError

            message = f"{where}: contains a control character (such as NUL)."
            raise ApplicationError(message, code="control_character", fields={where: [message]})
        return data
