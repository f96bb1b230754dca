"""Every write to wallets and the ledger (DESIGN §4.4), by concern:

- `ledger`: one wallet's grant and deduction (and the validation every write shares);
- `ledger_pg`: the PostgreSQL statements behind them;
- `transfers`: two wallets in one transaction;
- `phone_users`: seed 003's users by (tenant, phone) and the bot's deduction;
- `merges`: an account merge's part in credits (phone sign-in, `accounts.hooks`);
- `operator`: staff actions (purchase, allocate, grant/adjust), each with its audit event.

Import the public names from here: `from credits.services import wallet_deduct`.
"""

from credits.services.ledger import (
    MAX_CREDITS_PER_OPERATION,
    MAX_REASON_LENGTH,
    MAX_REFERENCE_LENGTH,
    InsufficientCredits,
    wallet_deduct,
    wallet_deduct_up_to,
    wallet_get_or_create_for_tenant,
    wallet_get_or_create_for_user,
    wallet_get_platform,
    wallet_grant,
)
from credits.services.ledger_pg import ledger_move_sql
from credits.services.merges import wallet_merge
from credits.services.operator import master_wallet_purchase, tenant_wallet_allocate, wallet_adjust
from credits.services.phone_users import (
    USER_INACTIVE,
    signup_credits_for,
    user_get_or_create_by_phone,
    wallet_deduct_for_phone,
    wallet_get_or_create_for_phone,
)
from credits.services.transfers import wallet_transfer

__all__ = [
    "MAX_CREDITS_PER_OPERATION", "MAX_REASON_LENGTH", "MAX_REFERENCE_LENGTH", "USER_INACTIVE",
    "InsufficientCredits", "ledger_move_sql", "master_wallet_purchase", "tenant_wallet_allocate",
    "wallet_adjust", "signup_credits_for", "user_get_or_create_by_phone",
    "wallet_deduct", "wallet_deduct_for_phone", "wallet_deduct_up_to",
    "wallet_get_or_create_for_phone", "wallet_get_or_create_for_tenant",
    "wallet_get_or_create_for_user", "wallet_get_platform", "wallet_grant", "wallet_merge",
    "wallet_transfer",
]
