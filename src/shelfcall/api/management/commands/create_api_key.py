"""`shelfcall manage create_api_key --store downtown --scopes orders:read,payments:write --name "Till 3"`
prints a new key (and only the key, for scripts)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shelfcall.api.keys import issue_key
from shelfcall.api.scopes import Scope
from shelfcall.stores.models import Organization, Store


def _parse_scopes(text: str) -> list[Scope]:
    try:
        return [Scope(item.strip()) for item in text.split(",") if item.strip()]
    except ValueError as error:
        raise CommandError(f"{error}; scopes are {', '.join(Scope)}") from None


class Command(BaseCommand):
    help = "Create an API key for a store or a whole organization and print it (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--store", help="the store's id or slug (organization-slug/store-slug if ambiguous)")
        where.add_argument("--organization", help="the organization's slug: the key reaches all of its stores")
        parser.add_argument("--scopes", required=True, help=f"comma-separated, from: {', '.join(Scope)}")
        parser.add_argument("--name", default="API key", help="what uses it, e.g. 'Till 3'")

    def handle(
        self, *args: Any, store: str | None, organization: str | None, scopes: str, name: str, **options: Any
    ) -> None:
        chosen = _parse_scopes(scopes)
        if not chosen:
            raise CommandError("Give at least one scope with --scopes.")
        if store is not None:
            found = _find_store(store)
            issued = issue_key(organization=found.organization, store=found, name=name, scopes=chosen)
        else:
            org = Organization.objects.filter(slug=organization).first()
            if org is None:
                raise CommandError(f"No organization with the slug {organization!r}.")
            issued = issue_key(organization=org, name=name, scopes=chosen)
        self.stdout.write(issued.plaintext)


def _find_store(text: str) -> Store:
    stores = Store.objects.select_related("organization")
    if text.isascii() and text.isdigit():
        matches = list(stores.filter(pk=int(text)))
    elif "/" in text:
        org_slug, _, store_slug = text.partition("/")
        matches = list(stores.filter(organization__slug=org_slug, slug=store_slug))
    else:
        matches = list(stores.filter(slug=text)[:2])
    if len(matches) != 1:
        problem = "No store" if not matches else "More than one store"
        raise CommandError(f"{problem} matches {text!r}; give its id or organization-slug/store-slug.")
    return matches[0]
