"""The OpenAPI document has one schema per event type, for the feed and for the webhooks, with examples that fit."""

import pytest

from shelfcall.api.event_schemas import EVENT_SCHEMAS, WEBHOOK_BODIES
from shelfcall.orders.events import EventType

pytestmark = pytest.mark.django_db
TYPES = {type.value for type in EventType}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json()


def _schema(document, ref: str) -> dict:
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_the_feed_is_a_union_discriminated_by_type_with_a_schema_per_event_type(document):
    items = document["components"]["schemas"]["EventPage"]["properties"]["data"]["items"]
    assert items["discriminator"]["propertyName"] == "type"
    mapping = items["discriminator"]["mapping"]
    assert set(mapping) == TYPES
    for type, ref in mapping.items():
        event = _schema(document, ref)
        assert event["properties"]["type"]["const"] == type and event["description"], type
        assert _schema(document, event["properties"]["payload"]["$ref"])["examples"], type
        [example] = event["examples"]
        assert EVENT_SCHEMAS[EventType(type)].model_validate(example).type == type


def test_every_webhook_is_documented_with_its_body_and_an_example_that_fits(document):
    assert set(document["webhooks"]) == TYPES
    for type, webhook in document["webhooks"].items():
        body = _schema(document, webhook["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"])
        data = _schema(document, body["properties"]["data"]["$ref"])
        assert "payload" in data["properties"] and {"type", "timestamp", "data"} <= set(body["required"])
        assert {p["name"] for p in webhook["post"]["parameters"]} >= {"webhook-id", "webhook-signature"}
        [example] = body["examples"]
        assert WEBHOOK_BODIES[EventType(type)].model_validate(example).type == type


def test_the_description_lists_every_event_and_its_fields(document):
    description = document["info"]["description"]
    for type in EventType:
        assert f"| `{type.value}` |" in description, type
    assert "| `order.fulfilled` | The order is picked and staged" in description
    assert "`location`, `drop_zone_id` |" in description
