"""Idempotent demo data for `make run`. Each app may add rows through a `demo.py` module with
a `seed(command)` function; this command calls them in INSTALLED_APPS order (layer order, so
`tenants` makes the demo tenant and its bot key before the apps above use them)."""

import importlib
import secrets

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create demo data (superuser, demo tenant, bot API key, ...). Safe to run repeatedly."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000",
                            help="Where the server will listen, for the hints printed (make run passes it)")

    def handle(self, *args, base_url, **options):
        self.base_url = base_url.rstrip("/")  # read by the apps' demo.seed(command)
        with transaction.atomic():
            self._superuser()
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

