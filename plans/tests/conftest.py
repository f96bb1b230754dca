import pytest
from django.apps import apps
from django.db import connection, models


@pytest.fixture
def reference_model_for(db):
    """reference_model_for("plans.RatePlan", on_delete) -> a throw-away model with a table and a `ref`
    foreign key to that model, standing in for the keys other apps add (subscriptions, payment
    orders). Table and registry entry are removed afterwards."""
    created = []

    def make(target: str, on_delete=models.PROTECT, related_name="+"):
        null = on_delete is models.SET_NULL
        name = f"TestRef{len(created)}"
        meta = type("Meta", (), {"app_label": "plans", "db_table": f"plans_test_{name.lower()}"})
        model = type(name, (models.Model,), {
            "__module__": __name__, "Meta": meta,
            "ref": models.ForeignKey(target, on_delete=on_delete, related_name=related_name, null=null),
        })
        with connection.schema_editor() as editor:
            editor.create_model(model)
        created.append(model)
        return model

    yield make
    if created:
        with connection.cursor() as cursor:  # fire the deferred FK checks before dropping the tables
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for model in created:
        with connection.schema_editor() as editor:
            editor.delete_model(model)
        del apps.all_models["plans"][model._meta.model_name]
    apps.clear_cache()


@pytest.fixture
def plan_reference_model(reference_model_for):
    return reference_model_for("plans.RatePlan")
