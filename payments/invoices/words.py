"""Amounts in words, Indian style (thousand, lakh, crore): "Rupees One Lakh Twenty Three
Thousand Five Hundred Forty Six and Fifty Paise Only"."""

_ONES = ["", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven",
         "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"]
_TENS = ["", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    return " ".join(word for word in (_TENS[n // 10], _ONES[n % 10]) if word)


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = [f"{_ONES[hundreds]} Hundred"] if hundreds else []
    if rest:
        parts.append(_below_hundred(rest))
    return " ".join(parts)


def number_in_words(n: int) -> str:
    """A whole number ≥ 0 in Indian words; crores repeat for larger numbers ("One Thousand Crore")."""
    if n < 0:
        raise ValueError("negative amounts have no words here")
    if n == 0:
        return "Zero"
    crores, n = divmod(n, 10**7)
    lakhs, n = divmod(n, 10**5)
    thousands, n = divmod(n, 1000)
    parts = []
    if crores:
        parts.append(f"{number_in_words(crores)} Crore")
    if lakhs:
        parts.append(f"{_below_hundred(lakhs)} Lakh")
    if thousands:
        parts.append(f"{_below_hundred(thousands)} Thousand")
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def rupees_in_words(paise: int) -> str:
    """12354600 → "Rupees One Lakh Twenty Three Thousand Five Hundred Forty Six Only";
    123546 → "Rupees One Thousand Two Hundred Thirty Five and Forty Six Paise Only"."""
    rupees, rest = divmod(int(paise), 100)
    paise_words = f"{_below_hundred(rest)} {'Paisa' if rest == 1 else 'Paise'}"
    if rupees == 0 and rest:
        return f"{paise_words} Only"
    words = f"Rupee{'' if rupees == 1 else 's'} {number_in_words(rupees)}"
    if rest:
        words += f" and {paise_words}"
    return words + " Only"
