"""The audit writer and its append-only table (DESIGN §4.6)."""

import pytest
from django.db import DatabaseError, connection, transaction

from config.audit import audit_context, audit_record
from config.models import AuditEvent, AuditEventIsAppendOnly


def _event(**overrides):
    fields = {"actor": None, "action": "tenant.suspend", "object_type": "tenant", "object_id": 7,
              "tenant_id": 7, "before": {"status": "active"}, "after": {"status": "suspended"},
              "reason": "unpaid"}
    fields.update(overrides)
    with transaction.atomic():
        return audit_record(**fields)


@pytest.mark.django_db
def test_records_a_user_actor_with_its_label_and_the_change(staff_user):
    event = _event(actor=staff_user)
    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor_id, event.actor_label) == (staff_user.pk, staff_user.email)
    assert (event.action, event.object_type, event.object_id, event.tenant_id) == (
        "tenant.suspend", "tenant", "7", 7)
    assert (event.before, event.after, event.reason) == (
        {"status": "active"}, {"status": "suspended"}, "unpaid")


@pytest.mark.django_db
def test_labels_for_api_keys_strings_and_commands(api_key):
    assert _event(actor=api_key[0]).actor_label == f"api_key:{api_key[0].prefix}"
    assert _event(actor="command:grant_credits").actor_label == "command:grant_credits"
    assert _event(actor=None).actor_label == "system"
    with audit_context(actor_label="command:expire_plans"):
        assert _event(actor=None).actor_label == "command:expire_plans"


@pytest.mark.django_db
def test_values_that_are_not_plain_json_are_stored_as_strings():
    from decimal import Decimal

    event = _event(before={"price": Decimal("99.50")}, after=None)
    assert AuditEvent.objects.get(pk=event.pk).before == {"price": "99.50"}


@pytest.mark.django_db
def test_ip_and_request_id_come_from_the_audit_context(staff_user):
    with audit_context(ip="203.0.113.9", request_id="req-1"):
        event = _event(actor=staff_user)
    assert (event.ip, event.request_id) == ("203.0.113.9", "req-1")
    # Outside a request there is neither.
    event = _event(actor=staff_user)
    assert (event.ip, event.request_id) == (None, "")


@pytest.mark.django_db
def test_the_middleware_answers_and_echoes_a_request_id(api_client):
    assert len(api_client.get("/api/health").headers["X-Request-ID"]) == 32
    assert api_client.get("/api/health", HTTP_X_REQUEST_ID="abc-123").headers["X-Request-ID"] == "abc-123"
    # Anything that is not a short token is replaced.
    assert api_client.get("/api/health", HTTP_X_REQUEST_ID="a b\n" * 40).headers["X-Request-ID"] != "a b\n" * 40


@pytest.mark.django_db(transaction=True)
def test_refuses_to_write_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=None, action="x.y", object_type="x", object_id=1)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_rolled_back_write_leaves_no_event():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_record(actor=None, action="x.y", object_type="x", object_id=1)
        1 / 0  # noqa: B018
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_the_orm_refuses_to_change_or_delete_events():
    event = _event()
    event.reason = "edited"
    with pytest.raises(AuditEventIsAppendOnly):
        event.save()
    with pytest.raises(AuditEventIsAppendOnly):
        event.delete()
    with pytest.raises(AuditEventIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(reason="edited")
    with pytest.raises(AuditEventIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == "unpaid"


@pytest.mark.postgres_only  # the trigger exists on PostgreSQL only
@pytest.mark.parametrize("sql", [
    "UPDATE config_auditevent SET reason = 'edited' WHERE id = %s",
    "DELETE FROM config_auditevent WHERE id = %s",
])
@pytest.mark.django_db
def test_database_refuses_raw_update_and_delete_of_events(sql):
    event = _event()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == "unpaid"
