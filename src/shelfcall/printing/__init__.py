"""Printed documents (QR signs today; pick lists and receipts next): page sizes, fonts, QR codes and
Code 128 barcodes, and text that fits its box in any of the site's languages, drawn with fpdf2."""
