"""An account merge's part in payments (DESIGN §4.9, called through `accounts.hooks`): the
retired account's orders, paid or not, now belong to the survivor, so a refund takes back from
the right wallet and an order paid later credits the merged account."""

from django.utils import timezone

from payments.models import PaymentOrder


def orders_merge(*, retired, survivor, reference: str, actor=None) -> dict:
    """Re-point `retired`'s orders to `survivor`, inside the merge's transaction. The orders are
    locked first (fulfilment and refunds lock an order before its wallet or subscription; the
    merge does the same), so an order being fulfilled right now finishes first and its credits
    are part of the balance the merge then moves."""
    order_ids = list(PaymentOrder.objects.select_for_update().filter(user_id=retired.pk)
                     .order_by("pk").values_list("pk", flat=True))
    moved = PaymentOrder.objects.filter(pk__in=order_ids).update(user_id=survivor.pk, updated_at=timezone.now())
    return {"orders_moved": moved}
