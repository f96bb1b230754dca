"""An account merge's part in credits (DESIGN §4.9, called through `accounts.hooks`): the retired
account's whole balance moves to the survivor's wallet by one paired ledger transfer. Its ledger
rows stay where they are (the ledger is append-only) and show in the survivor's history
(`credits.selectors`)."""

from credits.models import Wallet
from credits.services.ledger import Source, wallet_get_or_create_for_user
from credits.services.transfers import wallet_transfer

MERGE_REASON = "Account merge"


def wallet_merge(*, retired, survivor, reference: str, actor=None) -> dict:
    """Move everything in `retired`'s wallet to `survivor`'s, inside the merge's transaction."""
    retired_wallet = Wallet.objects.filter(user=retired).first()
    if retired_wallet is None:
        return {"credits_moved": 0}
    survivor_wallet = wallet_get_or_create_for_user(user=survivor)
    # Lock both (id order, as wallet_transfer does) before reading the balance to move.
    balances = dict(Wallet.objects.select_for_update().filter(pk__in=[retired_wallet.pk, survivor_wallet.pk])
                    .order_by("pk").values_list("pk", "balance"))
    credits = balances[retired_wallet.pk]
    if credits == 0:
        return {"credits_moved": 0}
    wallet_transfer(source_wallet=retired_wallet, target_wallet=survivor_wallet, credits=credits,
                    actor=actor, reason=MERGE_REASON, reference_id=reference, idempotency_key=reference,
                    source=Source.TRANSFER)
    return {"credits_moved": credits}
