from nastavnik.common.migrations import run_env
from nastavnik.matching.adapters.tables import metadata

run_env(metadata)
