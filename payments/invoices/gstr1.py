"""The month's invoices and credit notes as GSTR-1 CSVs (the GST offline tool's columns).

- b2b: invoices to registered buyers (a GSTIN), one row per invoice.
- b2cl: inter-state invoices to unregistered buyers above ₹1,00,000, one row per invoice.
- b2cs: the other consumer invoices, net of their credit notes of the month, summed by place of
  supply and rate (GSTR-1 table 7).
- cdnr: credit notes to registered buyers; cdnur: credit notes against b2cl invoices.
- summary: count, taxable value, IGST, CGST, SGST and total per file and for all invoices and
  all credit notes, so the files reconcile to the invoices to the paisa.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from config.money import rupees
from payments.invoices.models import Invoice
from payments.invoices.numbering import INDIA

B2CL_THRESHOLD_PAISE = 1_00_000_00  # ₹1,00,000 since August 2024 (was ₹2,50,000)

HEADERS = {
    "b2b": ["GSTIN/UIN of Recipient", "Receiver Name", "Invoice Number", "Invoice date", "Invoice Value",
            "Place Of Supply", "Reverse Charge", "Applicable % of Tax Rate", "Invoice Type", "E-Commerce GSTIN",
            "Rate", "Taxable Value", "Cess Amount"],
    "b2cl": ["Invoice Number", "Invoice date", "Invoice Value", "Place Of Supply", "Applicable % of Tax Rate",
             "Rate", "Taxable Value", "Cess Amount", "E-Commerce GSTIN"],
    "b2cs": ["Type", "Place Of Supply", "Applicable % of Tax Rate", "Rate", "Taxable Value", "Cess Amount",
             "E-Commerce GSTIN"],
    "cdnr": ["GSTIN/UIN of Recipient", "Receiver Name", "Note Number", "Note Date", "Note Type",
             "Place Of Supply", "Reverse Charge", "Note Supply Type", "Note Value", "Applicable % of Tax Rate",
             "Rate", "Taxable Value", "Cess Amount"],
    "cdnur": ["UR Type", "Note Number", "Note Date", "Note Type", "Place Of Supply", "Note Value",
              "Applicable % of Tax Rate", "Rate", "Taxable Value", "Cess Amount"],
}
SUMMARY_HEADER = ["Section", "Documents", "Taxable Value", "Integrated Tax", "Central Tax", "State/UT Tax",
                  "Total"]


@dataclass
class Totals:
    documents: int = 0
    taxable: int = 0
    igst: int = 0
    cgst: int = 0
    sgst: int = 0
    total: int = 0

    def add(self, invoice: Invoice, sign: int = 1) -> None:
        self.documents += 1
        self.taxable += sign * invoice.taxable_paise
        self.igst += sign * invoice.igst_paise
        self.cgst += sign * invoice.cgst_paise
        self.sgst += sign * invoice.sgst_paise
        self.total += sign * invoice.total_paise

    def row(self, name: str) -> list:
        return [name, self.documents, *(rupees(v) for v in (self.taxable, self.igst, self.cgst, self.sgst,
                                                              self.total))]


@dataclass
class Gstr1:
    rows: dict[str, list[list]] = field(default_factory=lambda: {name: [] for name in HEADERS})
    totals: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))


def _date(invoice: Invoice) -> str:
    return invoice.issued_at.astimezone(INDIA).strftime("%d-%b-%Y")


def _rate(invoice: Invoice):
    return invoice.gst_rate.normalize() if invoice.gst_rate else 0


def _is_b2cl(invoice: Invoice) -> bool:
    seller_state = invoice.seller.get("stateCode") or ""
    inter_state = invoice.place_of_supply_code != seller_state
    return not invoice.buyer.get("gstin") and inter_state and invoice.total_paise > B2CL_THRESHOLD_PAISE


def gstr1_build(invoices) -> Gstr1:
    """Sort a month's invoices and credit notes into the GSTR-1 sections."""
    report = Gstr1()
    b2cs: dict[tuple[str, object], int] = defaultdict(int)
    for doc in invoices:
        gstin = doc.buyer.get("gstin") or ""
        if doc.kind == Invoice.Kind.INVOICE:
            report.totals["all invoices"].add(doc)
            if gstin:
                report.totals["b2b"].add(doc)
                report.rows["b2b"].append([gstin, doc.buyer.get("name", ""), doc.number, _date(doc),
                                           rupees(doc.total_paise), doc.place_of_supply, "N", "", "Regular B2B",
                                           "", _rate(doc), rupees(doc.taxable_paise), rupees(0)])
            elif _is_b2cl(doc):
                report.totals["b2cl"].add(doc)
                report.rows["b2cl"].append([doc.number, _date(doc), rupees(doc.total_paise), doc.place_of_supply,
                                            "", _rate(doc), rupees(doc.taxable_paise), rupees(0), ""])
            else:
                report.totals["b2cs"].add(doc)
                b2cs[(doc.place_of_supply, _rate(doc))] += doc.taxable_paise
            continue
        report.totals["all credit notes"].add(doc)
        original = doc.original
        if gstin:
            report.totals["cdnr"].add(doc)
            report.rows["cdnr"].append([gstin, doc.buyer.get("name", ""), doc.number, _date(doc), "C",
                                        doc.place_of_supply, "N", "Regular B2B", rupees(doc.total_paise), "",
                                        _rate(doc), rupees(doc.taxable_paise), rupees(0)])
        elif original is not None and _is_b2cl(original):
            report.totals["cdnur"].add(doc)
            report.rows["cdnur"].append(["B2CL", doc.number, _date(doc), "C", doc.place_of_supply,
                                         rupees(doc.total_paise), "", _rate(doc), rupees(doc.taxable_paise),
                                         rupees(0)])
        else:
            # GSTR-1 nets consumer credit notes into table 7.
            report.totals["b2cs"].add(doc, sign=-1)
            b2cs[(doc.place_of_supply, _rate(doc))] -= doc.taxable_paise
    for (place, rate), taxable in sorted(b2cs.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        report.rows["b2cs"].append(["OE", place, "", rate, rupees(taxable), rupees(0), ""])
    return report


def gstr1_write(report: Gstr1, *, directory: Path, month_label: str) -> list[Path]:
    """Write one CSV per section and the summary; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, header in HEADERS.items():
        path = directory / f"gstr1-{month_label}-{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(report.rows[name])
        written.append(path)
    path = directory / f"gstr1-{month_label}-summary.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SUMMARY_HEADER)
        for name in ("b2b", "b2cl", "b2cs", "cdnr", "cdnur", "all invoices", "all credit notes"):
            writer.writerow(report.totals[name].row(name))
    written.append(path)
    return written
