"""Page sizes of printed documents, in millimetres."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shelfcall.core.errors import ShelfcallError


@dataclass(frozen=True)
class PageSize:
    slug: str  # as the URLs name it
    name: str | Promise
    width: float
    height: float

    @property
    def small(self) -> bool:
        """A label rather than a sheet: one line where a sheet has a paragraph."""
        return self.height < 100


A4 = PageSize("a4", "A4", 210, 297)
LETTER = PageSize("letter", gettext_lazy("US Letter"), 215.9, 279.4)
# A shelf-edge label: 100 mm of Brother's 62 mm wide roll, or a sheet of 2 by 4 labels cut apart.
LABEL = PageSize("label", gettext_lazy("Shelf label (100 × 62 mm)"), 100, 62)
PAGE_SIZES = {size.slug: size for size in (A4, LETTER, LABEL)}


class UnknownPageSize(ShelfcallError):
    code = "unknown_page_size"
    status = 400


def get_page_size(slug: str, *, field: str = "size") -> PageSize:
    try:
        return PAGE_SIZES[slug]
    except KeyError:
        raise UnknownPageSize(
            _("Unknown page size %(size)r: use one of %(sizes)s.") % {"size": slug, "sizes": ", ".join(PAGE_SIZES)},
            field=field,
        ) from None
