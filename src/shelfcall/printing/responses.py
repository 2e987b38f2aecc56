"""How every PDF Shelfcall prints is answered: shown in the browser's viewer (inline), with a file name for
saving it that says what it is."""

from django.http import HttpResponse


def pdf_response(data: bytes, *name_parts: str) -> HttpResponse:
    """The PDF, saved as shelfcall-<part>-<part>….pdf (e.g. shelfcall-pick-lists-12.pdf)."""
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="shelfcall-{"-".join(name_parts)}.pdf"'
    return response
