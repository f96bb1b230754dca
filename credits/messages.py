"""Seed 003's sentences, with correct singular and plural (DESIGN §4.4)."""

PURCHASE_PROMPT = "Please purchase a plan to continue."
NO_CREDITS_LEFT = f"You have no credits left. {PURCHASE_PROMPT}"


def credits_phrase(count: int) -> str:
    return f"{count} credit" if count == 1 else f"{count} credits"


def remaining_sentence(balance: int) -> str:
    if balance <= 0:
        return "You have no credits left."
    return f"You have {credits_phrase(balance)} remaining."


def balance_message(balance: int) -> str:
    """GET /api/bot/credits: "You have 2 credits remaining." """
    return NO_CREDITS_LEFT if balance <= 0 else remaining_sentence(balance)


def deducted_message(balance: int) -> str:
    """POST /api/bot/deduct: "Image generated successfully. You have 1 credit remaining." """
    return f"Image generated successfully. {remaining_sentence(balance)}"


def insufficient_message() -> str:
    """Seed 003's 402 for any short balance (none left, or fewer than asked for): the seed's one
    sentence, word for word; `remaining_credits` in the data tells the bot the balance."""
    return NO_CREDITS_LEFT


def short_balance_phrase(balance: int, requested: int) -> str:
    """Seed 004 and the admin, after the wallet's name: "holds 3 credits; 5 requested." """
    return f"holds {credits_phrase(balance)}; {requested} requested."
