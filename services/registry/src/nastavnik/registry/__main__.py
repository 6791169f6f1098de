"""``nastavnik-registry``: serve the API, or bootstrap a region and its admin token."""

from __future__ import annotations

import argparse
import asyncio
import json

from nastavnik.common import db, migrations
from nastavnik.common.runtime import serve
from nastavnik.registry.application import handlers
from nastavnik.registry.application.unit_of_work import RegistryUnitOfWork
from nastavnik.registry.bootstrap import MIGRATIONS, create_app, load_settings


async def _bootstrap_region(name: str) -> None:
    settings = load_settings()
    url = settings.service_database_url()
    if settings.create_database:
        await db.ensure_database(url)
    await migrations.upgrade_async(MIGRATIONS, url)
    engine = db.create_engine(url, pool_size=1)
    try:
        async with RegistryUnitOfWork(db.create_session_factory(engine)) as uow:
            region, issued = await handlers.bootstrap_region(uow, name)
    finally:
        await engine.dispose()
    print(json.dumps({"region_id": str(region.id), "token": issued.token}))


def main() -> None:
    parser = argparse.ArgumentParser(prog="nastavnik-registry")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP API, the relay and the consumers (default)")
    bootstrap = commands.add_parser("bootstrap-region", help="create a region and its admin token")
    bootstrap.add_argument("name", help="the region's name, e.g. «Энская область»")
    args = parser.parse_args()
    if args.command == "bootstrap-region":
        asyncio.run(_bootstrap_region(args.name))
        return
    settings = load_settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
