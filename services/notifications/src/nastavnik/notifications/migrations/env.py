from nastavnik.common.migrations import run_env
from nastavnik.notifications.adapters.tables import metadata

run_env(metadata)
