"""Roles (DESIGN §4.6): the Django admin admits platform staff only (support read-only), the data
migration gives today's staff their roles, commands name platform staff as actors."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

from accounts.tests.factories import (
    UserFactory,
    platform_admin,
    platform_support,
    super_admin,
    tenant_admin,
    tenant_staff,
)
from tenants.tests.factories import TenantFactory


@pytest.mark.django_db
def test_the_admin_admits_platform_staff_only_and_support_only_looks(client):
    tenant = TenantFactory()
    changelist = reverse("admin:tenants_tenant_changelist")
    change = reverse("admin:tenants_tenant_change", args=[tenant.pk])
    for who in (tenant_admin(tenant), tenant_staff(tenant), UserFactory()):
        client.force_login(who)
        assert client.get(changelist).status_code == 302  # to the admin's login page
    client.force_login(platform_support())
    assert client.get(changelist).status_code == 200
    page = client.get(change)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(change, {"name": "renamed", "slug": tenant.slug, "status": "active",
                                "settings": "{}"}).status_code == 403
    for who in (platform_admin(), super_admin()):
        client.force_login(who)
        assert b'name="_save"' in client.get(change).content


@pytest.mark.django_db
def test_a_role_that_does_not_fit_the_tenant_is_a_form_error_in_the_admin(client):
    tenant = TenantFactory()
    target = UserFactory(tenant=tenant)
    client.force_login(platform_admin())
    url = reverse("admin:accounts_user_change", args=[target.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"role": "admin", "tenant": tenant.pk, "date_joined": ""})
    response = client.post(url, {k: v for k, v in data.items() if not isinstance(v, list | dict)})
    assert response.status_code == 200  # the form again, with the error
    assert b"Platform staff belong to no tenant" in response.content
    target.refresh_from_db()
    assert target.role == "" and not target.is_staff


@pytest.mark.django_db
def test_grant_credits_actor_must_be_a_writing_platform_role():
    customer = UserFactory()
    support = platform_support()
    with pytest.raises(CommandError, match="platform staff"):
        call_command("grant_credits", "--user-id", str(customer.pk), "--credits", "5", "--reason", "x",
                     "--actor-email", support.email, stdout=io.StringIO())
    tenant = TenantFactory()
    with pytest.raises(CommandError, match="platform staff"):
        call_command("grant_credits", "--user-id", str(customer.pk), "--credits", "5", "--reason", "x",
                     "--actor-email", tenant_admin(tenant).email, stdout=io.StringIO())
    admin = platform_admin()
    out = io.StringIO()
    call_command("grant_credits", "--user-id", str(customer.pk), "--credits", "5", "--reason", "x",
                 "--actor-email", admin.email, stdout=out)
    assert "Granted 5" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migration_gives_todays_staff_their_roles():
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0004_hash_outstanding_refresh_tokens")])
    # The tenants table as it is now (its later migrations don't depend on accounts and stay applied).
    tenants_now = max(key for key in MigrationRecorder(connection).applied_migrations() if key[0] == "tenants")
    old_apps = executor.loader.project_state([("accounts", "0004_hash_outstanding_refresh_tokens"),
                                              tenants_now]).apps
    User, Tenant = old_apps.get_model("accounts", "User"), old_apps.get_model("tenants", "Tenant")
    tenant = Tenant.objects.create(name="A", slug="a-migration")
    made = {
        "root": User.objects.create(email="root@example.com", is_staff=True, is_superuser=True),
        "ops": User.objects.create(email="ops@example.com", is_staff=True),
        "holey": User.objects.create(email="holey@example.com", is_staff=True, tenant=tenant),
        "super_with_tenant": User.objects.create(email="swt@example.com", is_staff=True, is_superuser=True,
                                                 tenant=tenant),
        "customer": User.objects.create(email="c@example.com"),
    }
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    from accounts.models import User as NewUser

    roles = {name: NewUser.objects.values_list("role", "is_staff", "is_superuser").get(pk=user.pk)
             for name, user in made.items()}
    assert roles == {
        "root": ("super_admin", True, True),
        "ops": ("admin", True, False),
        "holey": ("tenant_admin", False, False),  # the hole: no platform power any more
        "super_with_tenant": ("tenant_admin", False, False),
        "customer": ("", False, False),
    }


@pytest.mark.django_db
def test_support_cannot_run_admin_actions(client):
    from tenants.models import Tenant

    tenant = TenantFactory()
    client.force_login(platform_support())
    url = reverse("admin:tenants_tenant_changelist")
    assert b"Suspend selected tenants" not in client.get(url).content
    client.post(url, {"action": "suspend", "_selected_action": [tenant.pk]})
    assert Tenant.objects.get(pk=tenant.pk).status == "active"
    client.force_login(platform_admin())
    assert b"Suspend selected tenants" in client.get(url).content
