"""The invoice or credit note as an A4 PDF (CGST Rules 46 and 53), drawn with fpdf2.

fpdf2 is pure Python (no system libraries), so `make run` and `make test` work on a fresh
machine. The font is a Latin subset of DejaVu Sans shipped in `fonts/` because the PDF core
fonts have no rupee sign (₹). Characters the font lacks print as "?" rather than vanish.
"""

import logging
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from config.money import rupees
from payments.invoices.models import Invoice
from payments.invoices.tax import Line, allocate
from payments.invoices.words import rupees_in_words

# fpdf2 subsets the font on every render through fontTools, which logs each table at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONTS = Path(__file__).resolve().parent / "fonts"
INDIA = ZoneInfo("Asia/Kolkata")
FAMILY = "DejaVu"
RUPEE = "₹"
PAGE_WIDTH = 210
MARGIN = 15
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
GREY = (110, 110, 110)
RULE = (190, 190, 190)
SHADE = (240, 242, 245)
HEADING = FontFace(emphasis="BOLD", fill_color=(225, 229, 235))


@cache
def _font_characters() -> frozenset[int]:
    return frozenset(TTFont(FONTS / "DejaVuSans.ttf").getBestCmap())


def printable(text) -> str:
    """`text` with characters the shipped font cannot draw replaced by "?"."""
    known = _font_characters()
    return "".join(char if ord(char) in known or char in "\n\t" else "?" for char in str(text or ""))


def inr(paise: int) -> str:
    """Indian digit grouping: 12345678 paise → "1,23,456.78"."""
    amount = rupees(paise)
    sign = "-" if amount < 0 else ""
    whole, fraction = f"{abs(amount):.2f}".split(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        groups.insert(0, head)
        whole = ",".join([*groups, tail])
    return f"{sign}{whole}.{fraction}"


def _rate(value) -> str:
    text = f"{value:f}".rstrip("0").rstrip(".")
    return f"{text}%"


class _InvoicePDF(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=18)
        self.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")

    def footer(self):
        self.set_y(-13)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*GREY)
        self.cell(0, 4, printable(self.footer_text), align="L")
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)

    def text_line(self, text, *, size=9, bold=False, width=0, align="L", color=None, height=None):
        self.set_font(FAMILY, "B" if bold else "", size)
        if color:
            self.set_text_color(*color)
        self.multi_cell(width or CONTENT_WIDTH, height or size * 0.48, printable(text), align=align,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def rule(self, gap=2.5):
        self.ln(gap)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y(), PAGE_WIDTH - MARGIN, self.get_y())
        self.ln(gap)


def _party_block(pdf: _InvoicePDF, x: float, width: float, heading: str, party: dict, *,
                 without_gstin: str) -> float:
    """Draw a seller or buyer block at (x, current y); return the y it ends at."""
    pdf.set_xy(x, pdf.get_y())
    pdf.set_font(FAMILY, "B", 7.5)
    pdf.set_text_color(*GREY)
    pdf.cell(width, 4.5, heading.upper(), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FAMILY, "B", 10)
    pdf.multi_cell(width, 5, printable(party.get("name") or "—"), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 8.5)
    if party.get("address"):
        pdf.multi_cell(width, 4.2, printable(party["address"]), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    if party.get("state"):
        code = f" (code {party['stateCode']})" if party.get("stateCode") else ""
        pdf.multi_cell(width, 4.2, printable(f"State: {party['state']}{code}"), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    gstin = party.get("gstin") or without_gstin
    pdf.set_font(FAMILY, "B", 8.5)
    pdf.multi_cell(width, 4.6, f"GSTIN: {gstin}", align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 8.5)
    for key, label in (("email", "Email"), ("phone", "Phone")):
        if party.get(key):
            pdf.multi_cell(width, 4.2, printable(f"{label}: {party[key]}"), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    return pdf.get_y()


def _header(pdf: _InvoicePDF, invoice: Invoice) -> None:
    title = "TAX INVOICE" if invoice.kind == Invoice.Kind.INVOICE else "CREDIT NOTE"
    top = pdf.get_y()
    pdf.set_font(FAMILY, "B", 18)
    pdf.cell(95, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 8)
    pdf.set_text_color(*GREY)
    pdf.cell(95, 4, "Original for recipient", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    issued = invoice.issued_at.astimezone(INDIA)
    facts = [("Number", invoice.number), ("Date", issued.strftime("%d %b %Y")),
             ("Place of supply", invoice.place_of_supply or "—")]
    original = invoice.original if invoice.kind == Invoice.Kind.CREDIT_NOTE else None
    if original is not None:
        facts.append(("Against invoice", original.number))
        facts.append(("Invoice date", original.issued_at.astimezone(INDIA).strftime("%d %b %Y")))
    facts.append(("Order", invoice.order.gateway_order_id))
    right_x, label_w, value_w = MARGIN + 95, 30, CONTENT_WIDTH - 95 - 30
    pdf.set_y(top)
    for label, value in facts:
        pdf.set_x(right_x)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.set_text_color(*GREY)
        pdf.cell(label_w, 5, label, align="R")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FAMILY, "B", 8.5)
        pdf.cell(value_w, 5, "  " + printable(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), top + 14))


def _lines_table(pdf: _InvoicePDF, invoice: Invoice) -> None:
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_draw_color(*RULE)
    headings = ("#", "Description", "SAC", "Qty", f"Taxable value ({RUPEE})")
    with pdf.table(col_widths=(8, 98, 20, 12, 42), text_align=("CENTER", "LEFT", "CENTER", "RIGHT", "RIGHT"),
                   line_height=5.2, headings_style=HEADING, first_row_as_headings=True,
                   borders_layout="HORIZONTAL_LINES", cell_fill_color=SHADE, cell_fill_mode="ROWS",
                   padding=1.2) as table:
        heading_row = table.row()
        pdf.set_font(FAMILY, "B", 8.5)
        for heading in headings:
            heading_row.cell(heading)
        pdf.set_font(FAMILY, "", 8.5)
        for index, raw in enumerate(invoice.lines, start=1):
            line = Line.from_json(raw)
            row = table.row()
            for value in (str(index), printable(line.description), line.sac, str(line.quantity),
                          inr(line.taxable_paise)):
                row.cell(value)


def _tax_summary(pdf: _InvoicePDF, invoice: Invoice) -> None:
    rate = invoice.gst_rate
    rows = [("Taxable value", inr(invoice.taxable_paise))]
    if invoice.igst_paise or not invoice.cgst_paise:
        rows.append((f"IGST @ {_rate(rate)}", inr(invoice.igst_paise)))
    else:
        rows.append((f"CGST @ {_rate(rate / 2)}", inr(invoice.cgst_paise)))
        rows.append((f"SGST @ {_rate(rate / 2)}", inr(invoice.sgst_paise)))
    label_x, label_w, value_w = MARGIN + 95, 43, CONTENT_WIDTH - 95 - 43
    pdf.set_font(FAMILY, "", 9)
    for label, value in rows:
        pdf.set_x(label_x)
        pdf.cell(label_w, 5.5, label)
        pdf.cell(value_w, 5.5, f"{RUPEE} {value}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(label_x)
    pdf.set_fill_color(*SHADE)
    pdf.set_font(FAMILY, "B", 10.5)
    total_label = "Total" if invoice.kind == Invoice.Kind.INVOICE else "Total credited"
    pdf.cell(label_w, 7.5, " " + total_label, fill=True)
    pdf.cell(value_w, 7.5, f"{RUPEE} {inr(invoice.total_paise)} ", align="R", fill=True,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _tax_table(pdf: _InvoicePDF, invoice: Invoice) -> None:
    """The tax per SAC at the invoice's rate (Rule 46 (i)-(j)). With several SAC codes each
    component is shared in proportion to taxable value (largest remainder), so columns add up."""
    intra = not invoice.igst_paise and bool(invoice.cgst_paise)
    half = _rate(invoice.gst_rate / 2)
    headings = ["SAC", f"Taxable ({RUPEE})"]
    headings += [f"CGST {half} ({RUPEE})", f"SGST {half} ({RUPEE})"] if intra else [
        f"IGST {_rate(invoice.gst_rate)} ({RUPEE})"]
    headings.append(f"Total tax ({RUPEE})")
    by_sac: dict[str, int] = {}
    for raw in invoice.lines:
        by_sac[raw["sac"]] = by_sac.get(raw["sac"], 0) + raw["taxable_paise"]
    components = [invoice.cgst_paise, invoice.sgst_paise] if intra else [invoice.igst_paise]
    shares = [allocate(component, list(by_sac.values())) for component in components]
    rows = []
    for index, (sac, taxable) in enumerate(by_sac.items()):
        taxes = [share[index] for share in shares]
        rows.append([sac, inr(taxable), *(inr(tax) for tax in taxes), inr(sum(taxes))])
    if len(by_sac) > 1:
        rows.append(["Total", inr(invoice.taxable_paise), *(inr(c) for c in components), inr(invoice.tax_paise)])
    widths = (30, 40, 35, 35, 40) if intra else (30, 50, 50, 50)
    align = ("LEFT", *("RIGHT",) * (len(widths) - 1))
    pdf.set_font(FAMILY, "", 8)
    with pdf.table(col_widths=widths, text_align=align, line_height=4.8, first_row_as_headings=True,
                   headings_style=HEADING, borders_layout="HORIZONTAL_LINES", padding=1) as table:
        for cells in [headings, *rows]:
            row = table.row()
            for value in cells:
                row.cell(value)


def invoice_pdf(invoice: Invoice) -> bytes:
    """The PDF of an invoice or credit note, from what the invoice stored (never live data)."""
    seller = invoice.seller
    pdf = _InvoicePDF(footer_text=f"{invoice.number} · {seller.get('name', '')} · computer-generated document")
    pdf.set_title(f"{'Tax invoice' if invoice.kind == Invoice.Kind.INVOICE else 'Credit note'} {invoice.number}")
    pdf.set_author(printable(seller.get("name", "")))
    pdf.set_creator("Kosh")
    pdf.add_page()
    _header(pdf, invoice)
    pdf.rule()
    top = pdf.get_y()
    seller_end = _party_block(pdf, MARGIN, 88, "Sold by", seller, without_gstin="—")
    pdf.set_y(top)
    buyer_end = _party_block(pdf, MARGIN + 95, CONTENT_WIDTH - 95, "Billed to", invoice.buyer,
                             without_gstin="Unregistered")
    pdf.set_y(max(seller_end, buyer_end))
    pdf.rule(gap=3)
    _lines_table(pdf, invoice)
    pdf.ln(3)
    _tax_summary(pdf, invoice)
    pdf.ln(3)
    pdf.text_line("Amount in words", size=7.5, bold=True, color=GREY)
    pdf.text_line(rupees_in_words(invoice.total_paise), size=9, bold=True)
    pdf.ln(3)
    _tax_table(pdf, invoice)
    pdf.ln(4)
    pdf.text_line("Tax is not payable on reverse charge.", size=8.5)
    original = invoice.original if invoice.kind == Invoice.Kind.CREDIT_NOTE else None
    if original is not None:
        pdf.text_line(f"Issued for a refund of {RUPEE} {inr(invoice.total_paise)} against invoice "
                      f"{original.number}; the tax shown is reduced from the tax on that invoice.",
                      size=8.5)
    payment = invoice.order.gateway_payment_id
    if payment:
        pdf.text_line(f"Paid online: payment {payment}.", size=8.5, color=GREY)
    # Signature block, bottom right, kept together on one page.
    if pdf.get_y() > 297 - 18 - 32:
        pdf.add_page()
    pdf.ln(10)
    x = MARGIN + 105
    pdf.set_x(x)
    pdf.set_font(FAMILY, "B", 9)
    pdf.cell(CONTENT_WIDTH - 105, 5, printable(f"For {seller.get('name', '')}"), align="R",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(13)
    pdf.set_draw_color(80, 80, 80)
    pdf.line(x + 15, pdf.get_y(), PAGE_WIDTH - MARGIN, pdf.get_y())
    pdf.ln(1)
    pdf.set_x(x)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.cell(CONTENT_WIDTH - 105, 5, "Authorised signatory", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
