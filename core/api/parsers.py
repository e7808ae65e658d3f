"""The API's JSON parser: DRF's, with a bound on how deeply a body may nest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.inputs import JSONTooDeep, json_depth_check


class JSONParser(parsers.JSONParser):
    """Parse a JSON body, refusing one nested deeper than MAX_JSON_DEPTH with a 400.

    json.load raises RecursionError past about a thousand levels ("[" * 100000), which
    DRF's parser lets through as a 500; a shallower but still absurd nesting would recurse
    later, in validation and error reporting."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            data = super().parse(stream, media_type, parser_context)
            json_depth_check(data)
        except (RecursionError, JSONTooDeep):
            raise ParseError(f"JSON parse error - {JSONTooDeep()}") from None
        return data
