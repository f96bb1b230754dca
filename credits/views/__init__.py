"""Credit endpoints, by caller: seed 003's bot API and user reads (`bot`, status envelope), the
frontend's wallet (`wallet`), seed 004's staff (`staff`) and tenant services (`tenant`)."""

from credits.views.bot import (
    BotCreditsView,
    BotDeductView,
    CreditHistoryView,
    UserProfileView,
)
from credits.views.staff import AllocateView, MasterPurchaseView, MasterWalletView, TenantWalletsView
from credits.views.tenant import TenantDeductView, TenantWalletView
from credits.views.wallet import WalletTransactionsView, WalletView

__all__ = [
    "AllocateView", "BotCreditsView", "BotDeductView", "CreditHistoryView", "MasterPurchaseView",
    "MasterWalletView", "TenantDeductView", "TenantWalletView",
    "TenantWalletsView", "UserProfileView", "WalletTransactionsView", "WalletView",
]
