from nastavnik.common.migrations import run_env
from nastavnik.registry.adapters.tables import metadata

run_env(metadata)
