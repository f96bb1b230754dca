"""GST tax invoices and credit notes (DESIGN §4.7).

- `models`: `Invoice` (kind invoice | credit_note, append-only) and `InvoiceCounter` (one row per
  series and financial year, locked to hand out gapless numbers).
- `numbering`: financial years (April–March, Asia/Kolkata) and number allocation.
- `tax`: pure arithmetic — taxable value, CGST/SGST/IGST split, place of supply, credit-note shares.
- `lines`: `invoice_lines_for(order)`, what an order's invoice lists.
- `parties`: the seller from settings, the buyer from the billing profile (`buyer_snapshot`).
- `services`: `invoice_issue`, `credit_note_issue`, `invoices_issue_missing`.
- `pdf`, `words`: the A4 PDF and the amount in words. `gstr1`: the monthly export.
"""
