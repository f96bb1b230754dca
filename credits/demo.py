"""`manage.py seed_demo`: a couple of phone users with credits for the demo tenant's bot key."""

from credits import services
from tenants.models import Tenant

DEMO_PHONES = [("+919876543210", 10), ("+919812345678", 0)]


def seed(command):
    tenant = Tenant.objects.filter(slug="demo").first()
    if tenant is None:
        command.stdout.write("No demo tenant; skipping demo credits.")
        return
    for phone, top_up in DEMO_PHONES:
        user, created = services.user_get_or_create_by_phone(phone=phone, tenant=tenant)
        wallet = services.wallet_get_or_create_for_user(user=user)
        if top_up:
            # The key makes a second run a no-op.
            services.wallet_grant(wallet=wallet, credits=top_up, source="adjustment",
                                  reason="Demo top-up", idempotency_key="demo-top-up")
            wallet.refresh_from_db()
        command.stdout.write(f"Demo phone user {phone}: {wallet.balance} credit(s)"
                             f"{' (created)' if created else ''}.")
    command.stdout.write("Try: curl -H 'X-Bot-Secret: <demo key>' "
                         f"{getattr(command, 'base_url', 'http://127.0.0.1:8000')}/api/bot/credits/9876543210")
