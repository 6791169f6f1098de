from nastavnik.common.migrations import run_env
from nastavnik.monitoring.adapters.tables import metadata

run_env(metadata)
