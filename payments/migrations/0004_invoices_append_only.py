"""On PostgreSQL the database itself refuses UPDATE and DELETE of issued invoices and credit
notes (DESIGN §4.7): corrections are credit notes, never edits.

Row-level triggers do not fire on TRUNCATE, so test teardown (flush) keeps working.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION payments_invoice_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'payments_invoice is append-only: % refused', TG_OP
        USING HINT = 'Issue a credit note instead.';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER payments_invoice_append_only
    BEFORE UPDATE OR DELETE ON payments_invoice
    FOR EACH ROW EXECUTE FUNCTION payments_invoice_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS payments_invoice_append_only ON payments_invoice;
DROP FUNCTION IF EXISTS payments_invoice_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0003_invoices"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
