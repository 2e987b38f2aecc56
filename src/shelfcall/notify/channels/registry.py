"""The kinds of channel there are: plugins register here, and the core (models, forms, admin, outbox,
worker) reads every kind's label, audience, configuration and delivery from here, never by name."""

from collections.abc import Iterator

from shelfcall.notify.channels.base import Audience, ChannelPlugin

KIND_MAX_LENGTH = 20  # Channel.kind and OutboxMessage.kind


class Registry:
    def __init__(self) -> None:
        self._plugins: dict[str, ChannelPlugin] = {}

    def register(self, plugin: ChannelPlugin) -> ChannelPlugin:
        if not plugin.kind or len(plugin.kind) > KIND_MAX_LENGTH:
            raise ValueError(f"a channel kind is 1 to {KIND_MAX_LENGTH} characters: {plugin.kind!r}")
        if plugin.kind in self._plugins:
            raise ValueError(f"a channel plugin of kind {plugin.kind!r} is already registered")
        self._plugins[plugin.kind] = plugin
        return plugin

    def unregister(self, kind: str) -> None:
        del self._plugins[kind]

    def get(self, kind: str) -> ChannelPlugin | None:
        return self._plugins.get(kind)

    def __getitem__(self, kind: str) -> ChannelPlugin:
        return self._plugins[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._plugins

    def __iter__(self) -> Iterator[ChannelPlugin]:
        return iter(self._plugins.values())

    def for_audience(self, audience: Audience) -> list[ChannelPlugin]:
        return [plugin for plugin in self if audience in plugin.audiences]


REGISTRY = Registry()


def staff_kind_choices() -> list[tuple[str, str]]:
    """Channel.kind's choices: the kinds an admin can configure (read when a form is drawn)."""
    return [(plugin.kind, str(plugin.label)) for plugin in REGISTRY.for_audience(Audience.STAFF)]


def kind_choices() -> list[tuple[str, str]]:
    """OutboxMessage.kind's choices: every kind, shoppers' too."""
    return [(plugin.kind, str(plugin.label)) for plugin in REGISTRY]


def label_of(kind: str) -> str:
    """A kind's label; the kind itself for one no longer registered (its old messages still show)."""
    plugin = REGISTRY.get(kind)
    return str(plugin.label) if plugin else kind
