"""Idempotent demo data for `make run`. Each app may add rows through a `demo.py` module with
a `seed(command)` function; this command calls them in INSTALLED_APPS order."""

import importlib
import secrets

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.models import Tenant
from tenants.services import api_key_create, tenant_create

DEMO_TENANT_SLUG = "demo"
DEMO_KEY_NAME = "demo-bot"


class Command(BaseCommand):
    help = "Create demo data (superuser, demo tenant, bot API key, ...). Safe to run repeatedly."

    def handle(self, *args, **options):
        with transaction.atomic():
            self._superuser()
            tenant = self._tenant()
            self._bot_key(tenant)
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(self)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _superuser(self):
        from os import environ

        User = get_user_model()
        email = environ.get("DEMO_ADMIN_EMAIL", "admin@kosh.local").lower()
        if User.objects.filter(email=email).exists():
            self.stdout.write(f"Superuser {email} exists.")
            return
        password = environ.get("DEMO_ADMIN_PASSWORD")
        generated = not password
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser(email=email, password=password, name="Demo Admin")
        self.stdout.write(f"Superuser created: {email}")
        if generated:
            self.stdout.write(f"  password (shown once): {password}")

    def _tenant(self) -> Tenant:
        tenant = Tenant.objects.filter(slug=DEMO_TENANT_SLUG).first()
        if tenant is None:
            tenant = tenant_create(name="Demo Tenant", slug=DEMO_TENANT_SLUG,
                                   settings={"free_signup_credits": settings.FREE_SIGNUP_CREDITS})
            self.stdout.write("Tenant 'demo' created.")
        return tenant

    def _bot_key(self, tenant: Tenant):
        if tenant.api_keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True).exists():
            self.stdout.write(f"Bot key {DEMO_KEY_NAME!r} exists (keys are shown only once; "
                              "make another with manage.py create_api_key).")
            return
        _, raw = api_key_create(tenant=tenant, name=DEMO_KEY_NAME, scopes=["bot", "tokens", "payments"])
        self.stdout.write(f"Bot API key (shown once; send as X-Bot-Secret): {raw}")
