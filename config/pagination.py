"""Page-number pagination shared by every list endpoint: `?page=&page_size=` in, and
`{results, count, page, page_size, total_pages}` out."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from config.errors import InvalidInput

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
PAGE_MAX = 10**6

PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False),
    OpenApiParameter("page_size", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
                     description=f"1 to {PAGE_SIZE_MAX} (default {PAGE_SIZE_DEFAULT})."),
]


def _positive_int(params, name: str, default: int, maximum: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12) or not 1 <= int(raw) <= maximum:
        raise InvalidInput(f"{name} must be a whole number from 1 to {maximum}.", code="invalid_query",
                           fields={name: ["Invalid."]})
    return int(raw)


def page_params(params) -> tuple[int, int]:
    """(page, page_size) from query parameters; anything else than 1..max → 400."""
    return (_positive_int(params, "page", 1, PAGE_MAX),
            _positive_int(params, "page_size", PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX))


def paginate(queryset, *, page: int, page_size: int) -> dict:
    count = queryset.count()
    start = (page - 1) * page_size
    return {
        "results": list(queryset[start:start + page_size]) if start < count else [],
        "count": count,
        "page": page,
        "page_size": page_size,
        "total_pages": (count + page_size - 1) // page_size,
    }


def page_serializer(name: str, item_serializer) -> type[serializers.Serializer]:
    """A serializer class for a page of `item_serializer` items (also its OpenAPI shape)."""
    return type(name, (serializers.Serializer,), {
        "results": item_serializer(many=True),
        "count": serializers.IntegerField(),
        "page": serializers.IntegerField(),
        "page_size": serializers.IntegerField(),
        "total_pages": serializers.IntegerField(),
    })
