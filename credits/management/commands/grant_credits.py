"""Staff top-up: add (or with --deduct take away) credits on one user's wallet, with a reason.

    manage.py grant_credits --phone 9876543210 --tenant demo --credits 10 --reason "Goodwill, ticket 42"
    manage.py grant_credits --email a@example.com --credits 5 --reason "Promo" --idempotency-key promo-2024
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.phones import phone_normalize
from accounts.selectors import user_by_phone
from config.audit import audit_context
from config.errors import ServiceError
from config.policy import policy_allows, principal_for_user
from credits import services
from tenants.models import Tenant


def _user_by_phone(raw_phone: str, *, tenant_slug: str | None):
    """The user with this phone in the tenant named by `tenant_slug`, or among users without a
    tenant when there is no slug; None for an unknown slug or phone."""
    phone = phone_normalize(raw_phone)
    tenant = None
    if tenant_slug:
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            return None
    return user_by_phone(tenant=tenant, phone=phone)


class Command(BaseCommand):
    help = "Grant credits to a user's wallet (ledger source 'adjustment'); --reason is required."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--phone", help="Phone number (any common format); with --tenant.")
        who.add_argument("--user-id", type=int)
        who.add_argument("--email")
        parser.add_argument("--tenant", help="Tenant slug for --phone (omit for users without a tenant).")
        parser.add_argument("--credits", type=int, required=True)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--deduct", action="store_true", help="Take the credits away instead.")
        parser.add_argument("--reference-id")
        parser.add_argument("--idempotency-key", help="Running again with the same key changes nothing.")
        parser.add_argument("--actor-email", help="Staff user recorded as the actor.")

    def handle(self, *args, **opts):
        User = get_user_model()
        reason = (opts["reason"] or "").strip()
        if not reason:
            raise CommandError("--reason must not be empty.")
        if opts["tenant"] and not opts["phone"]:
            raise CommandError("--tenant goes with --phone.")
        try:
            if opts["phone"]:
                user = _user_by_phone(opts["phone"], tenant_slug=opts["tenant"])
            elif opts["user_id"] is not None:
                user = User.objects.filter(pk=opts["user_id"]).first()
            else:
                user = User.objects.filter(email__iexact=opts["email"].strip()).first()
            if user is None:
                raise CommandError("No such user.")
            actor = None
            if opts["actor_email"]:
                actor = User.objects.filter(email__iexact=opts["actor_email"]).first()
                if actor is None or not policy_allows(principal_for_user(actor), "credits.user.grant", user):
                    raise CommandError("--actor-email must name platform staff (super_admin or admin).")
            wallet = services.wallet_get_or_create_for_user(user=user)
            with audit_context(actor_label="command:grant_credits"):
                txn = services.wallet_adjust(
                    wallet=wallet, credits=opts["credits"], deduct=opts["deduct"], actor=actor, reason=reason,
                    reference_id=opts["reference_id"], idempotency_key=opts["idempotency_key"],
                    metadata={"via": "grant_credits"})
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        verb = "Deducted" if opts["deduct"] else "Granted"
        self.stdout.write(self.style.SUCCESS(
            f"{verb} {txn.credits} credit(s) for user {user.pk} ({user}); balance now {txn.balance_after} "
            f"(transaction {txn.pk})."))
