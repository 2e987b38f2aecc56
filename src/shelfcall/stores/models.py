"""Who sells, where, and who works there."""

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

MAX_UNCLAIMED_MINUTES = 7 * 24 * 60
MAX_SUBSTITUTE_WAIT_MINUTES = 24 * 60
hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1F4E79."))


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone %(tz)s; use a name like Europe/Paris."), params={"tz": value})


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), unique=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class SubstituteDefault(models.TextChoices):
    """What happens to a substitute the shopper has not answered in time."""

    ACCEPT = "accept", _("Accept it")
    DECLINE = "decline", _("Decline it")


class Store(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="stores")
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"))
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_timezone])
    address = models.TextField(_("address"), blank=True)
    opening_hours = models.TextField(
        _("opening hours note"),
        blank=True,
        help_text=_("Shown to shoppers beside the opening hours, e.g. 'Closed on public holidays'."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        db_default=settings.LANGUAGE_CODE,
        help_text=_("What the store's staff read: its pick lists and receipt copies, and its signs first."),
    )
    # Where the store is, for "nearest first" in the API's availability of a basket; optional.
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    brand_colour = models.CharField(_("brand colour"), max_length=7, default="#1F4E79", validators=[hex_colour])
    logo_url = models.CharField(_("logo URL"), max_length=500, blank=True)
    help_text = models.TextField(
        _("help text"),
        blank=True,
        help_text=_("Shown to shoppers when a QR code does not work, e.g. where to find an associate."),
    )
    pickup_instructions = models.TextField(
        _("pickup instructions"), blank=True, help_text=_("Shown on the status page, e.g. 'Pay at any till'.")
    )
    # Shopper-page texts in other languages: {"fr": {"help_text": "…", "pickup_instructions": "…"}}; the
    # fields above are the default, shown in any language without its own text.
    # Nullable: rows written by code that predates the column (a migration test going back) leave it out.
    shopper_texts = models.JSONField(_("shopper texts by language"), default=dict, blank=True, null=True)
    require_shopper_name = models.BooleanField(_("require the shopper's first name"), default=False)
    require_shopper_contact = models.BooleanField(_("require a phone number or email"), default=False)
    max_line_qty = models.PositiveSmallIntegerField(
        _("maximum quantity per line"), default=5, validators=[MinValueValidator(1)]
    )
    max_order_qty = models.PositiveSmallIntegerField(
        _("maximum quantity per order"), default=10, validators=[MinValueValidator(1)]
    )
    low_stock_threshold = models.PositiveSmallIntegerField(_("'few left' from"), default=3)
    max_open_orders_per_device = models.PositiveSmallIntegerField(
        _("open orders per phone"), default=3, validators=[MinValueValidator(1)]
    )
    # Held units are counted by phone and by network address: a fresh cookie is a new phone, the address is not.
    max_units_per_device = models.PositiveSmallIntegerField(
        _("items on hold per phone"), default=30, validators=[MinValueValidator(1)]
    )
    max_units_per_address = models.PositiveIntegerField(
        _("items on hold per network address"),
        default=500,
        validators=[MinValueValidator(1)],
        help_text=_("Every shopper on the store's Wi-Fi shares one address: keep this far above one shopper's needs."),
    )
    unclaimed_expiry_minutes = models.PositiveSmallIntegerField(
        _("minutes an unclaimed request waits before it is cancelled and its stock released"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_UNCLAIMED_MINUTES)],
        help_text=_("The shopper sees when their request will lapse; from 1 minute to 7 days."),
    )
    pick_target_minutes = models.PositiveSmallIntegerField(
        _("minutes to have a showcase order ready"), default=10, validators=[MinValueValidator(1)]
    )
    allow_pay_at_pickup = models.BooleanField(_("allow hand-off before payment"), default=False)
    require_id_check = models.BooleanField(_("check ID at hand-off"), default=False)
    substitute_wait_minutes = models.PositiveSmallIntegerField(
        _("minutes a shopper has to answer a substitute"),
        default=10,
        db_default=10,  # also in the database: code from before these rules can still make stores
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SUBSTITUTE_WAIT_MINUTES)],
        help_text=_("When an item is not found and an associate offers another; from 1 minute to 24 hours."),
    )
    substitute_default = models.CharField(
        _("unanswered substitutes are"),
        max_length=10,
        choices=SubstituteDefault.choices,
        default=SubstituteDefault.DECLINE,
        db_default=SubstituteDefault.DECLINE,
        help_text=_("What happens once the shopper has not answered in time."),
    )
    # Last order number handed out; bumped atomically by submit (UPDATE … RETURNING).
    order_seq = models.PositiveIntegerField(default=1000, editable=False)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="store_slug_unique")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Caps that would refuse every order, or let one phone hold what the whole Wi-Fi may not."""
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError({"longitude": _("Give both the latitude and the longitude, or neither.")})
        if self.max_units_per_device < self.max_order_qty:
            raise ValidationError(
                {
                    "max_units_per_device": _(
                        "Allow at least the maximum quantity per order (%(max)s), or no order could be sent."
                    )
                    % {"max": self.max_order_qty}
                }
            )
        if self.max_units_per_address < self.max_units_per_device:
            raise ValidationError(
                {
                    "max_units_per_address": _("Allow at least the items on hold per phone (%(max)s).")
                    % {"max": self.max_units_per_device}
                }
            )

    def unclaimed_expiry_at(self, since: datetime) -> datetime:
        """When a request that nobody has started picking lapses and gives its stock back."""
        return since + timedelta(minutes=self.unclaimed_expiry_minutes)

    def shopper_text(self, field: str) -> str:
        """`help_text` or `pickup_instructions` in the active language, or the default text."""
        own = self.shopper_texts.get(get_language() or "", {}) if isinstance(self.shopper_texts, dict) else {}
        return own.get(field) or getattr(self, field)

    @property
    def shopper_help_text(self) -> str:
        return self.shopper_text("help_text")

    @property
    def brand_text_colour(self) -> str:
        """Black or white, whichever reads better on the brand colour (WCAG relative luminance)."""

        def channel(hex_pair: str) -> float:
            c = int(hex_pair, 16) / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(self.brand_colour[i : i + 2]) for i in (1, 3, 5))
        luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
        return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#FFFFFF"


class Team(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return f"{self.store} · {self.name}"


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", _("Organization admin")
    STORE_ADMIN = "store_admin", _("Store admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    ASSOCIATE = "associate", _("Associate")
    # Reads every store of the organization, resends messages, cancels, moves untouched orders; never picks.
    CUSTOMER_SERVICE = "customer_service", _("Customer service")


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        help_text=_("Empty for organization-wide roles."),
    )
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.ASSOCIATE)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "organization", "store"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.store or self.organization}"

    def clean(self) -> None:
        if self.store is not None and self.organization_id and self.store.organization_id != self.organization_id:
            raise ValidationError({"store": _("Choose a store of this organization.")})
        # Organization admins and customer service reach every store of the organization (stores.policy):
        # a store here would mislead.
        if self.store_id and self.role == Role.ORG_ADMIN:
            raise ValidationError({"store": _("Leave the store empty for an organization admin.")})
        if self.store_id and self.role == Role.CUSTOMER_SERVICE:
            raise ValidationError({"store": _("Leave the store empty for customer service.")})


class DropZone(models.Model):
    class Kind(models.TextChoices):
        DESK = "desk", _("Desk")
        LOCKER = "locker", _("Locker")
        CAGE = "cage", _("Cage")
        CURBSIDE = "curbside", _("Curbside")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="drop_zones")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.DESK)
    directions = models.CharField(_("directions for the shopper"), max_length=240, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("drop zone")
        verbose_name_plural = _("drop zones")

    def __str__(self) -> str:
        return self.name


class OpeningPeriod(models.Model):
    """One stretch of a weekday when the store is open; a day may have several (a lunch break), or none."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="opening_periods")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(
        _("closes"), help_text=_("A closing time at or before the opening time means the next day (a night shift).")
    )

    class Meta:
        verbose_name = _("opening period")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.UniqueConstraint(fields=["store", "weekday", "opens"], name="opening_period_unique"),
            models.CheckConstraint(condition=models.Q(weekday__gte=0, weekday__lte=6), name="opening_period_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class StaffPin(models.Model):
    """A short PIN for switching user on a shared store device. Stored hashed, like a password."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_pin")
    pin_hash = models.CharField(max_length=128)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("staff PIN")
        verbose_name_plural = _("staff PINs")

    def __str__(self) -> str:
        return f"PIN of {self.user}"
