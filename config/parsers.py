"""The API's one request parser: JSON that cannot exhaust the interpreter's stack."""

import codecs
import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.parsers import get_encoding
from rest_framework.utils.json import strict_constant

# No body of this API nests deeper than a few levels (plan metadata is the deepest); a limit
# well above that keeps every later step (validation, hashing, storing) off the recursion limit.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(value, limit: int) -> bool:
    """True when containers nest deeper than `limit` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def json_loads_bounded(text: str | bytes, *, limit: int = MAX_JSON_DEPTH):
    """`json.loads` that raises ValueError (never RecursionError) for too deep a document."""
    too_deep = f"JSON nested deeper than {limit} levels"
    try:
        value = json.loads(text, parse_constant=strict_constant)
    except RecursionError as exc:
        raise ValueError(too_deep) from exc
    if json_depth_exceeds(value, limit):
        raise ValueError(too_deep)
    return value


class JSONParser(DRFJSONParser):
    """DRF's parser, plus: nesting deeper than MAX_JSON_DEPTH (or deep enough to hit Python's
    recursion limit, which DRF lets escape as a 500) is a malformed body."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json_loads_bounded(text)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from exc
