"""Bodies built to break the parser or Django's error pages get a JSON 4xx in the view's envelope."""

import pytest
from django.test import Client, override_settings

from config.parsers import MAX_JSON_DEPTH, json_depth_exceeds, json_loads_bounded

pytestmark = [pytest.mark.urls("config.tests.urls"), pytest.mark.django_db]

DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"n": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}"
JUST_TOO_DEEP = '{"n": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"


def post(client, path, body, **headers):
    return client.post(path, data=body, content_type="application/json", **headers)


def _assert_envelope_error(path, response, status, flat_message):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    if path == "/flat":
        assert body == {"error": flat_message}
    elif path == "/status":
        assert body["status"] == "ERROR" and body["message"]
    else:
        assert body["success"] is False and body["error"]["message"]


@pytest.mark.parametrize("path", ["/flat", "/status", "/success"])
@pytest.mark.parametrize("raw", [DEEP_ARRAY, DEEP_OBJECT, JUST_TOO_DEEP])
def test_deeply_nested_json_is_a_400_in_the_view_envelope(client, path, raw):
    _assert_envelope_error(path, post(client, path, raw), 400, "invalid body")


def test_nesting_within_the_limit_still_parses(client):
    raw = '{"n": 1, "x": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    response = post(client, "/success", raw)
    # The body parsed: the only complaint is the unknown key, not the nesting.
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"x": ["Unknown field."]}


def test_depth_helpers():
    assert not json_depth_exceeds({"a": [1, {"b": []}]}, 4)
    assert json_depth_exceeds({"a": [1, {"b": []}]}, 3)
    with pytest.raises(ValueError):
        json_loads_bounded(DEEP_ARRAY)
    with pytest.raises(ValueError):
        json_loads_bounded('{"a": NaN}')


@pytest.mark.parametrize("path", ["/flat", "/status", "/success"])
def test_a_3mb_body_is_a_413_in_the_view_envelope_not_an_html_page(client, path):
    raw = '{"n": 1, "pad": "' + "x" * (3 * 1024 * 1024) + '"}'
    _assert_envelope_error(path, post(client, path, raw), 413, "request body too large")


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_path_is_a_json_404_even_in_debug(debug):
    with override_settings(DEBUG=debug, ROOT_URLCONF="config.urls"):
        response = Client().get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"success": False,
                               "error": {"code": "not_found", "message": "Not found."}}


def test_unknown_path_outside_the_api_keeps_djangos_page():
    with override_settings(ROOT_URLCONF="config.urls"):
        response = Client().get("/no-such-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("debug", [False, True])
def test_an_uncaught_error_under_api_is_a_json_500_even_in_debug(debug, monkeypatch):
    from config import views

    def explode(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.HealthView, "get", explode)
    with override_settings(DEBUG=debug, ROOT_URLCONF="config.urls"):
        response = Client(raise_request_exception=False).get("/api/health")
    assert response.status_code == 500
    assert response.json() == {"success": False, "error": {"code": "server_error",
                                                           "message": "Internal server error."}}


def test_a_bad_host_header_under_api_is_json():
    with override_settings(ROOT_URLCONF="config.urls"):
        response = Client().get("/api/health", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
