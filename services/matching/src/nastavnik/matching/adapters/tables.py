"""The matching service's own tables (none yet beyond the shared outbox, inbox and tokens)."""

from sqlalchemy import MetaData

metadata = MetaData()
