from django.core.management.base import BaseCommand, CommandError

from config.errors import ServiceError
from tenants.models import ApiKey, Tenant
from tenants.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a tenant and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scope", action="append", choices=ApiKey.Scope.values,
                            help="Repeat for several scopes (default: bot)")

    def handle(self, *args, tenant, name, scope, **options):
        try:
            tenant_obj = Tenant.objects.get(slug=tenant)
        except Tenant.DoesNotExist as exc:
            raise CommandError(f"No tenant with slug {tenant!r}.") from exc
        try:
            api_key, raw = api_key_create(tenant=tenant_obj, name=name, scopes=scope,
                                          actor="command:create_api_key")
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"API key {api_key.name!r} for tenant {tenant_obj.slug} "
                          f"(scopes: {', '.join(api_key.scopes)}). Store it now; it is not shown again:")
        self.stdout.write(raw)
