"""On PostgreSQL the database itself refuses UPDATE and DELETE of audit events (DESIGN §4.6), as
it does for the credit ledger and invoices.

Row-level triggers do not fire on TRUNCATE, so test teardown (flush) keeps working.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION config_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'config_auditevent is append-only: % refused', TG_OP
        USING HINT = 'Record a new audit event instead.';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER config_auditevent_append_only
    BEFORE UPDATE OR DELETE ON config_auditevent
    FOR EACH ROW EXECUTE FUNCTION config_auditevent_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS config_auditevent_append_only ON config_auditevent;
DROP FUNCTION IF EXISTS config_auditevent_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("config", "0002_audit_event"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
