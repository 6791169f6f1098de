"""Settings shared by every service: one env prefix, ``NASTAVNIK_``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class ServiceSettings(BaseSettings):
    """What a service needs to run; every field can be set as ``NASTAVNIK_<FIELD>``.

    ``database_url`` names the service's own database. When it is empty the service uses
    ``nastavnik_<service>`` on the server given by ``postgres_url``, so one set of variables
    configures all four services.
    """

    model_config = SettingsConfigDict(env_prefix="NASTAVNIK_", extra="ignore")

    service_name: str = "nastavnik"
    postgres_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    database_url: str | None = None
    create_database: bool = Field(
        default=True, description="Create the service's database on start when it is missing."
    )
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="Comma-separated servers.")
    stream_replicas: int = Field(
        default=1,
        ge=1,
        description="Replicas of every stream: 3 on a JetStream cluster. Services provision "
        "streams at start with this value, so it must match the cluster's provisioning job.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"

    relay_enabled: bool = True
    relay_batch_size: int = 1000
    relay_idle_poll_seconds: float = Field(
        default=5.0, description="Safety poll of the outbox when no NOTIFY arrives."
    )

    consumers_enabled: bool = True
    consumer_batch_size: int = 1000
    consumer_batch_timeout_seconds: float = 0.05
    consumer_max_deliver: int = Field(
        default=5, description="Deliveries before a message goes to the dead-letter subject."
    )
    consumer_retry_delay_seconds: float = 2.0
    consumer_ack_wait_seconds: float = Field(
        default=30.0,
        description="Redelivery delay of messages a crashed consumer had fetched; must stay well "
        "above the time one batch takes (a fraction of a second).",
    )

    db_pool_size: int = 10

    def service_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        url = make_url(self.postgres_url).set(database=f"nastavnik_{self.service_name}")
        return url.render_as_string(hide_password=False)

    def nats_servers(self) -> list[str]:
        return [server.strip() for server in self.nats_url.split(",") if server.strip()]
