"""Stream provisioning: the one place streams are created or updated.

Run as ``python -m nastavnik.common.provisioning`` (deploy/ calls it as a job); services also run
it at start-up, which is idempotent. ``replicas`` is 3 on a JetStream cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import nats
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from nastavnik.common.contracts.streams import ALL_STREAMS, StreamSpec
from nastavnik.common.settings import ServiceSettings

log = logging.getLogger(__name__)


def stream_config(spec: StreamSpec, replicas: int) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=spec.max_age.total_seconds() if spec.max_age else None,
        duplicate_window=spec.duplicate_window.total_seconds(),
        num_replicas=replicas,
    )


async def provision_streams(js: JetStreamContext, replicas: int = 1) -> None:
    for spec in ALL_STREAMS:
        config = stream_config(spec, replicas)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
            log.info("stream created", extra={"stream": spec.name})
        else:
            await js.update_stream(config)


async def _main(replicas: int | None) -> None:
    settings = ServiceSettings()
    client = await nats.connect(settings.nats_servers())
    try:
        await provision_streams(client.jetstream(), replicas or settings.stream_replicas)
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Create or update Nastavnik's JetStream streams.")
    parser.add_argument(
        "--replicas",
        type=int,
        default=None,
        help="3 on a JetStream cluster (default: NASTAVNIK_STREAM_REPLICAS, else 1)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    asyncio.run(_main(args.replicas))


if __name__ == "__main__":
    main()
