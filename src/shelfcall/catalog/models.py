"""What can be requested: products, their stock per store, and the showcases that list them."""

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shelfcall.core import clock
from shelfcall.core.jobs.models import Job
from shelfcall.stores.models import Organization, Store, Team

# No 0/O or 1/I/L: codes are sometimes typed from a printed sign.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_public_code(length: int = 8) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


class Product(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="products")
    sku = models.CharField(_("SKU"), max_length=64)
    upc = models.CharField(_("UPC / EAN"), max_length=32, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    size = models.CharField(_("size"), max_length=60, blank=True)
    colour = models.CharField(_("colour"), max_length=60, blank=True)
    image_url = models.CharField(_("image URL"), max_length=500, blank=True)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    location_hint = models.CharField(_("location hint"), max_length=120, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [models.UniqueConstraint(fields=["organization", "sku"], name="product_sku_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    @property
    def variant(self) -> str:
        return " · ".join(part for part in (self.size, self.colour) if part)

    def clean(self) -> None:
        if (
            self.pk
            and self.organization_id
            and (
                self.stock_levels.exclude(store__organization=self.organization_id).exists()
                or self.showcase_items.exclude(showcase__store__organization=self.organization_id).exists()
            )
        ):
            raise ValidationError(
                {"organization": _("Stores of its organization stock or show it: keep it in that organization.")}
            )


class StockLevel(models.Model):
    """On hand and reserved per store. `reserved` always equals the sum of the active reservations."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="stock_levels")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_levels")
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0, editable=False)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.store}: {self.available}"

    def clean(self) -> None:
        product, store = _related(self, "product"), _related(self, "store")
        if product and store and product.organization_id != store.organization_id:
            raise ValidationError({"store": _("Choose a store of the product's organization.")})

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


class Showcase(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="showcases")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="showcases")
    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("public code"), max_length=16, unique=True, default=new_public_code)
    location_hint = models.CharField(_("where it stands"), max_length=120, blank=True)
    active = models.BooleanField(_("active"), default=True)
    products: "models.ManyToManyField[Product, ShowcaseItem]" = models.ManyToManyField(
        Product, through="ShowcaseItem", related_name="showcases"
    )

    class Meta:
        verbose_name = _("showcase")
        verbose_name_plural = _("showcases")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        if self.store_id and self.team_id and self.team.store_id != self.store_id:
            raise ValidationError({"team": _("Choose a team of this store.")})
        if self.pk and self.store_id and self.items.exclude(product__organization=self.store.organization_id).exists():
            raise ValidationError(
                {"store": _("Its products belong to another organization: choose a store of theirs.")}
            )


class ShowcaseItem(models.Model):
    """A product on a showcase; its own code makes the per-product QR (`/p/<code>`)."""

    showcase = models.ForeignKey(Showcase, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="showcase_items")
    code = models.CharField(_("public code"), max_length=16, unique=True, default=new_public_code)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("showcase item")
        verbose_name_plural = _("showcase items")
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["showcase", "product"], name="showcase_item_unique")]

    def __str__(self) -> str:
        return f"{self.product} in {self.showcase}"

    def clean(self) -> None:
        showcase = _related(self, "showcase")
        if (
            self.product_id
            and showcase
            and showcase.store_id
            and (self.product.organization_id != showcase.store.organization_id)
        ):
            raise ValidationError({"product": _("Choose a product of this store's organization.")})


def _related(obj: models.Model, name: str) -> Any:
    """The related object, also when it is not saved yet (an inline's parent in the admin's add page)."""
    return getattr(obj, name, None)


class ImportState(models.TextChoices):
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Ready to apply")
    INVALID = "invalid", _("Has errors")
    APPLYING = "applying", _("Applying")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    UNDOING = "undoing", _("Undoing")
    UNDONE = "undone", _("Undone")


class CatalogImport(models.Model):
    """A CSV file of products and stock counts for one store, from upload to preview to apply (and undo).

    The file itself is kept in `chunks` (in the database, so a worker on another host reads it too).
    `preview` is what the check found (counts, a sample of changes, every error by row and column);
    `undo` is what applying it replaced, written in the same transaction as the change."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="catalog_imports")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="catalog_imports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(_("file name"), max_length=255)
    size_bytes = models.PositiveBigIntegerField(_("size"), default=0)
    state = models.CharField(_("state"), max_length=10, choices=ImportState.choices, default=ImportState.CHECKING)
    # May it create and change products (an organization admin's import), or only set counts of existing ones?
    may_change_products = models.BooleanField(default=False)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    preview = models.JSONField(default=dict, blank=True)
    undo = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=clock.now)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        verbose_name = _("catalogue import")
        verbose_name_plural = _("catalogue imports")
        indexes = [models.Index(fields=["store", "-created_at"], name="catalog_import_recent")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"


class CatalogImportChunk(models.Model):
    """A piece of an uploaded file, in order: a file is written and read a chunk at a time, never whole."""

    catalog_import = models.ForeignKey(CatalogImport, on_delete=models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["catalog_import", "position"], name="catalog_import_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.catalog_import_id}/{self.position}"
