"""`manage.py seed_demo`: the demo tenant and its bot API key. Runs before the apps above
tenants (INSTALLED_APPS is in layer order), so their demo rows can hang off this tenant."""

from django.conf import settings

from tenants.models import Tenant
from tenants.services import api_key_create, tenant_create

DEMO_TENANT_SLUG = "demo"
DEMO_KEY_NAME = "demo-bot"


def seed(command):
    tenant = _tenant(command)
    _bot_key(command, tenant)


def _tenant(command) -> Tenant:
    tenant = Tenant.objects.filter(slug=DEMO_TENANT_SLUG).first()
    if tenant is None:
        tenant = tenant_create(name="Demo Tenant", slug=DEMO_TENANT_SLUG,
                               settings={"free_signup_credits": settings.FREE_SIGNUP_CREDITS})
        command.stdout.write("Tenant 'demo' created.")
    return tenant


def _bot_key(command, tenant: Tenant):
    if tenant.api_keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True).exists():
        command.stdout.write(f"Bot key {DEMO_KEY_NAME!r} exists (keys are shown only once; "
                             "make another with manage.py create_api_key).")
        return
    _, raw = api_key_create(tenant=tenant, name=DEMO_KEY_NAME, scopes=["bot", "tokens", "payments"])
    command.stdout.write(f"Bot API key (shown once; send as X-Bot-Secret): {raw}")
