from django.db import migrations


def load(apps, schema_editor):
    from plans.catalog import catalog_load

    catalog_load(apps.get_model("plans", "RatePlan"), apps.get_model("plans", "AddOn"),
                 apps.get_model("plans", "CreditPackage"))


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
