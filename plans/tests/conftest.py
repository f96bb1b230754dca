import pytest
from django.apps import apps
from django.db import connection, models


@pytest.fixture
def reference_model_for(db):
    """reference_model_for("plans.RatePlan", on_delete) -> a throw-away model with a table and a `ref`
    foreign key to that model, standing in for the keys other apps add (subscriptions, payment
    orders). The table lives in the test's transaction, whose rollback drops it on any database;
    teardown only takes the models out of the app registry, so nothing can stop it (a failed
    test, an aborted transaction) and no model leaks into later tests."""
    created = []

    def make(target: str, on_delete=models.PROTECT, related_name="+"):
        null = on_delete is models.SET_NULL
        name = f"TestRef{len(created)}"
        meta = type("Meta", (), {"app_label": "plans", "db_table": f"plans_test_{name.lower()}"})
        model = type(name, (models.Model,), {  # registers the model in `apps`
            "__module__": __name__, "Meta": meta,
            "ref": models.ForeignKey(target, on_delete=on_delete, related_name=related_name, null=null),
        })
        created.append(model)
        _create_table(model)
        return model

    yield make
    for model in created:
        del apps.all_models["plans"][model._meta.model_name]
    apps.clear_cache()


def _create_table(model):
    # Not `with connection.schema_editor()`: SQLite's refuses to start inside a transaction (it
    # cannot switch foreign-key checks off there). The statements themselves run inside one on
    # both databases, and rolling the test back removes them. `deferred_sql` (foreign keys,
    # indexes) is what entering the editor would set up and leaving it would run.
    assert connection.in_atomic_block, "needs the test's transaction (not django_db(transaction=True))"
    editor = connection.schema_editor()
    editor.deferred_sql = []
    editor.create_model(model)
    for statement in editor.deferred_sql:
        editor.execute(statement)


@pytest.fixture
def plan_reference_model(reference_model_for):
    return reference_model_for("plans.RatePlan")
