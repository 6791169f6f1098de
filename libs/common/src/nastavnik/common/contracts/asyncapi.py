"""AsyncAPI 3.0 document of every event, generated from the contracts themselves.

``python -m nastavnik.common.contracts.asyncapi`` prints it; every service serves it at
``/asyncapi.json``; ``docs/asyncapi.json`` is the committed copy (a test keeps it current).
"""

from __future__ import annotations

import json
from typing import Any

from nastavnik.common.contracts.envelope import Envelope
from nastavnik.common.contracts.events import ALL_EVENTS, EventSpec
from nastavnik.common.contracts.streams import ALL_STREAMS


def _message_name(spec: EventSpec[Any]) -> str:
    return f"{spec.name}.v{spec.version}"


def _payload_schema(spec: EventSpec[Any]) -> dict[str, Any]:
    envelope = Envelope.model_json_schema()
    data_schema = spec.data_model.model_json_schema()
    envelope["properties"]["data"] = data_schema
    envelope["properties"]["type"] = {"const": spec.type, "type": "string"}
    envelope["title"] = f"{spec.data_model.__name__} envelope"
    return envelope


def build_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in ALL_EVENTS:
        name = _message_name(spec)
        messages[name] = {
            "name": spec.type,
            "title": spec.data_model.__name__,
            "summary": (spec.data_model.__doc__ or spec.name).strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "Nats-Msg-Id": {"type": "string", "description": "The envelope id (dedup)."}
                },
            },
            "payload": _payload_schema(spec),
        }
        channels[name] = {
            "address": spec.subject,
            "description": f"Stream {spec.stream.name}: {spec.stream.description}",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        if spec.stream.keyed_by:
            channels[name]["parameters"] = {
                spec.stream.keyed_by: {
                    "description": "The aggregate (the envelope's subject). Every event type of "
                    "the stream shares this subject; the stream keeps only the newest message."
                }
            }
        operations[f"publish.{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Nastavnik events",
            "version": "1.0.0",
            "description": "Events between Nastavnik's services over NATS JetStream. Streams: "
            + ", ".join(f"{s.name} ({', '.join(s.subjects)})" for s in ALL_STREAMS),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> str:
    return json.dumps(build_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
