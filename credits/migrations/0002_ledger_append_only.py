"""On PostgreSQL the database itself refuses UPDATE and DELETE on ledger rows (DESIGN §4.4).

Row-level triggers do not fire on TRUNCATE, so test teardown (flush) keeps working.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION credits_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credits_credittransaction is append-only: % refused', TG_OP
        USING HINT = 'Record a correcting transaction instead.';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credits_ledger_append_only
    BEFORE UPDATE OR DELETE ON credits_credittransaction
    FOR EACH ROW EXECUTE FUNCTION credits_ledger_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS credits_ledger_append_only ON credits_credittransaction;
DROP FUNCTION IF EXISTS credits_ledger_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("credits", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
