"""Every /api/subscriptions endpoint is in the OpenAPI schema with its request and answer shapes."""

import pytest
from drf_spectacular.generators import SchemaGenerator

OPERATIONS = [
    ("/api/subscriptions", "get", None), ("/api/subscriptions", "post", "LegacyCreateIn"),
    ("/api/subscriptions/my-subscription", "get", None),
    ("/api/subscriptions/create-with-payment", "post", "CreateWithPaymentIn"),
    ("/api/subscriptions/verify-payment", "post", "VerifyPaymentIn"),
    ("/api/subscriptions/{id}", "get", None), ("/api/subscriptions/{id}", "put", "SubscriptionUpdateIn"),
    ("/api/subscriptions/{id}/cancel", "post", "CancelIn"),
    ("/api/subscriptions/{id}/suspend", "post", "ReasonIn"),
    ("/api/subscriptions/{id}/activate", "post", "ReasonIn"),
    ("/api/subscriptions/{id}/renew", "post", "ReasonIn"),
    ("/api/subscriptions/{id}/usage", "get", None), ("/api/subscriptions/{id}/usage", "post", "UsageRecordIn"),
]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _path(schema, path):
    paths = schema["paths"]
    if path in paths:
        return paths[path]
    return paths[path.replace("{id}", "{pk}")]


@pytest.mark.parametrize("path, method, request_component", OPERATIONS)
def test_operation_documents_request_and_answer(schema, path, method, request_component):
    operation = _path(schema, path)[method]
    if request_component:
        body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body.endswith(f"/{request_component}Request") or body.endswith(f"/{request_component}"), body
    ok = next(code for code in ("200", "201") if code in operation["responses"])
    answer = operation["responses"][ok]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][answer.rsplit("/", 1)[1]]
    assert set(component["properties"]) == {"success", "data"}
    assert any(code in operation["responses"] for code in ("400", "401", "404"))


def test_the_subscription_component_has_seed_002_fields(schema):
    fields = set(schema["components"]["schemas"]["SubscriptionOut"]["properties"])
    assert fields >= {"id", "customerId", "ratePlanId", "status", "billingCycle", "startDate",
                      "currentPeriodStart", "currentPeriodEnd", "nextBillingDate", "autoRenew",
                      "cancelAtPeriodEnd", "scheduledChange", "metadata", "ratePlan"}
