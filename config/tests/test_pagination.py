import pytest

from config.errors import InvalidInput
from config.pagination import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, page_params


@pytest.mark.parametrize("params,expected", [
    ({}, (1, PAGE_SIZE_DEFAULT)),
    ({"page": "3", "page_size": "50"}, (3, 50)),
    ({"page_size": "007"}, (1, 7)),
    ({"page_size": str(PAGE_SIZE_MAX)}, (1, PAGE_SIZE_MAX)),
])
def test_page_params(params, expected):
    assert page_params(params) == expected


@pytest.mark.parametrize("params", [
    {"page": "0"}, {"page_size": "0"}, {"page_size": str(PAGE_SIZE_MAX + 1)}, {"page": "-1"},
    {"page": "1.5"}, {"page": "x"}, {"page": "１"},
    # leading zeros must not slip a huge value past the bound
    {"page_size": "0000000000010000"}, {"page": "000000000001" + "0" * 20},
])
def test_bad_page_params_are_refused(params):
    with pytest.raises(InvalidInput):
        page_params(params)
