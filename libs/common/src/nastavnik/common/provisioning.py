"""Stream provisioning: the one place streams are created or updated.

Run as ``python -m nastavnik.common.provisioning`` (deploy/ calls it as a job); services also run
it at start-up, which is idempotent. ``replicas`` is 3 on a JetStream cluster.

An existing stream is updated to the current configuration, so a running deployment gets a new
limit on its next start. A keyed stream (``StreamSpec.keyed_by``) keeps one message per subject
(``max_msgs_per_subject``); messages on any other subject of its (from before it was keyed: one
subject per event type, where the per-subject limit would keep one person's data until max_age)
are purged.
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
        max_msgs_per_subject=spec.max_msgs_per_subject,
        duplicate_window=spec.duplicate_window.total_seconds(),
        num_replicas=replicas,
    )


def unkeyed_subjects(spec: StreamSpec) -> str | None:
    """The filter of the subjects a keyed stream's events no longer use (``contacts.*.>``: more
    than one token after the prefix, e.g. ``contacts.contact.updated.v1``)."""
    return f"{spec.subject_prefix}*.>" if spec.keyed_by else None


async def provision_streams(js: JetStreamContext, replicas: int = 1) -> None:
    for spec in ALL_STREAMS:
        config = stream_config(spec, replicas)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
            log.info("stream created", extra={"stream": spec.name})
            continue
        await js.update_stream(config)
        legacy = unkeyed_subjects(spec)
        if legacy is not None:
            info = await js.stream_info(spec.name, subjects_filter=legacy)
            if info.state.subjects:
                await js.purge_stream(spec.name, subject=legacy)
                log.warning(
                    "purged the subjects a keyed stream no longer uses",
                    extra={"stream": spec.name, "subjects": sorted(info.state.subjects)},
                )


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
