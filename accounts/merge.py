"""Merging a bot's phone account into a web account (DESIGN §4.9).

The web account survives: its id, email, password and tokens stay, and it takes the (tenant,
phone) the bot knows. The bot's account is retired: inactive, without its phone, `merged_into`
the survivor. Everything else moves through the mergers the higher apps register
(`accounts.hooks`): orders, subscriptions, and the wallet balance by a paired ledger transfer;
the retired account's ledger rows and invoices (both unchangeable) show in the survivor's
history and invoice list; its billing profile moves unless the survivor has one. One transaction: a merger that
refuses (409: both accounts have a live subscription in one product) leaves nothing changed.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts import hooks
from accounts.models import BillingProfile
from accounts.phones import phone_masked
from config.audit import audit_record
from config.errors import Conflict

logger = logging.getLogger("kosh.audit")


def merge_reference(retired_id: int) -> str:
    """The reference every row a merge writes carries; an account is merged away only once."""
    return f"account-merge:{retired_id}"


@transaction.atomic
def account_merge(*, survivor, retired, actor=None, reason: str = "", address: str = "") -> dict:
    """Merge `retired` (a phone account of a tenant) into `survivor`; returns what moved."""
    User = get_user_model()
    locked = {user.pk: user for user in
              User.objects.select_for_update().filter(pk__in=[survivor.pk, retired.pk]).order_by("pk")}
    survivor, retired = locked.get(survivor.pk), locked.get(retired.pk)
    _check_mergeable(survivor=survivor, retired=retired)
    reference = merge_reference(retired.pk)
    summary: dict = {"merged_user_id": retired.pk}
    for _label, merger in hooks.account_mergers():
        summary.update(merger(retired=retired, survivor=survivor, reference=reference, actor=actor))

    # The billing profile (the buyer on invoices) comes along unless the survivor has its own.
    if not BillingProfile.objects.filter(user_id=survivor.pk).exists():
        BillingProfile.objects.filter(user_id=retired.pk).update(user_id=survivor.pk)

    tenant_id, phone = retired.tenant_id, retired.phone
    now = timezone.now()
    # The retired account lets go of the number first: (tenant, phone) is unique.
    User.objects.filter(pk=retired.pk).update(phone=None, is_active=False, merged_into=survivor,
                                              updated_at=now)
    # Accounts merged into the retired one before now belong to the survivor's history too.
    User.objects.filter(merged_into=retired).update(merged_into=survivor, updated_at=now)
    before = {"tenant_id": survivor.tenant_id, "phone": survivor.phone,
              "is_whatsapp_verified": survivor.is_whatsapp_verified}
    survivor.tenant_id, survivor.phone, survivor.is_whatsapp_verified = tenant_id, phone, True
    survivor.save(update_fields=["tenant", "phone", "is_whatsapp_verified", "updated_at"])
    _audit_merge(actor=actor, survivor=survivor, retired=retired, tenant_id=tenant_id, before=before,
                 summary=summary, reason=reason, address=address)
    return summary


def _check_mergeable(*, survivor, retired) -> None:
    if survivor is None or retired is None or survivor.pk == retired.pk:
        raise Conflict("These accounts cannot be merged.", code="merge_refused")
    if retired.merged_into_id is not None or not retired.is_active or retired.email:
        raise Conflict("That account cannot be merged away.", code="merge_refused")
    if retired.tenant_id is None or not retired.phone:
        raise Conflict("Only a tenant's phone account can be merged away.", code="merge_refused")
    if not survivor.is_active or survivor.merged_into_id is not None:
        raise Conflict("This account cannot take another in.", code="merge_refused")
    if survivor.tenant_id is not None and survivor.tenant_id != retired.tenant_id:
        raise Conflict("The accounts belong to different tenants.", code="tenant_mismatch")


def _audit_merge(*, actor, survivor, retired, tenant_id, before: dict, summary: dict, reason: str,
                 address: str) -> None:
    """The merge's audit event (action `account.merge`), in the merge's transaction."""
    audit_record(
        actor=actor, action="account.merge", object_type="user", object_id=survivor.pk, tenant_id=tenant_id,
        before={**before, "phone": phone_masked(before["phone"])},
        after={"tenant_id": survivor.tenant_id, "phone": phone_masked(survivor.phone),
               "is_whatsapp_verified": True, "merged_user_id": retired.pk, "summary": summary},
        reason=reason, ip=address or None,
    )
    logger.info("audit action=account.merge actor=%s object=user:%s merged_user=%s tenant=%s",
                getattr(actor, "pk", None), survivor.pk, retired.pk, tenant_id)
