"""Start the whole stack in order, keep it running, stop it in reverse order.

Order of start: PostgreSQL, NATS (and the streams), the four services, the demo region.
Order of stop (SIGINT, SIGTERM or SIGHUP): the services, then NATS, then PostgreSQL. Every stop
is registered on an ``ExitStack`` as soon as its process exists, so a failure or a signal at any
point stops exactly what was started.
"""

from __future__ import annotations

import signal
import subprocess
import time
import warnings
from contextlib import ExitStack
from types import FrameType

from nastavnik.devstack import console
from nastavnik.devstack.config import SERVICES, ConfigError, DevstackConfig
from nastavnik.devstack.demo import DemoState, load_demo, wait_until_counted
from nastavnik.devstack.servers import Servers, StartupError, require_free_port, start_servers
from nastavnik.devstack.services import ServiceGroup

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ShutdownRequested(BaseException):
    """Raised in the main thread by a stop signal (a BaseException, like KeyboardInterrupt, so
    that no ``except Exception`` on the way swallows it)."""


def _on_stop_signal(signum: int, _frame: FrameType | None) -> None:
    _ignore_stop_signals()  # a second Ctrl-C must not interrupt the orderly stop
    raise ShutdownRequested(signal.Signals(signum).name)


def _ignore_stop_signals() -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def _stop_services(group: ServiceGroup) -> None:
    console.say("stopping the services")
    group.stop()


def _start(config: DevstackConfig, cleanup: ExitStack) -> ServiceGroup:
    config.var_dir.mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        require_free_port(config.service_port(name), name, "NASTAVNIK_DEVSTACK_BASE_PORT")
    servers = start_servers(config, cleanup, console.say)
    group = _start_services(config, servers, cleanup)
    state = _load_demo(config, group) if config.load_demo else None
    print(console.summary(group.services, servers, config.var_dir, state), flush=True)
    return group


def _start_services(config: DevstackConfig, servers: Servers, cleanup: ExitStack) -> ServiceGroup:
    group = ServiceGroup.create(
        SERVICES,
        port_of=config.service_port,
        log_dir=config.log_dir,
        postgres_url=servers.postgres_url,
        nats_url=servers.nats_url,
    )
    cleanup.callback(_stop_services, group)
    console.say(f"starting {', '.join(SERVICES)} (logs in {config.log_dir})")
    group.start()
    group.wait_ready(lambda service: console.say(f"{service.name} is ready at {service.url}"))
    return group


def _load_demo(config: DevstackConfig, group: ServiceGroup) -> DemoState:
    registry, monitoring = group["registry"], group["monitoring"]
    state = load_demo(config.demo_file, config.region_name, registry.url, registry.env, console.say)
    counted = wait_until_counted(state, monitoring.url)
    if counted is not None and counted >= state.participants:
        console.say(f"monitoring counts all {state.participants} demo participants")
    else:
        console.say(
            f"monitoring counts {counted or 0} of {state.participants} demo participants so "
            f"far; see {monitoring.log_file} if this does not catch up"
        )
    return state


def _watch(group: ServiceGroup) -> None:
    """Block until a service exits on its own (a signal interrupts the sleep)."""
    while True:
        time.sleep(1.0)
        exited = group.first_exited()
        if exited is not None:
            raise StartupError(
                f"{exited.name} exited with code {exited.exit_code()}; see {exited.log_file}"
            )


def run() -> int:
    """The launcher's main: 0 after a requested stop, 1 when something failed."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_stop_signal)
    # pgserver's import asks platformdirs for a runtime folder it never uses here
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    try:
        config = DevstackConfig.from_env()
        with ExitStack() as cleanup:
            try:
                group = _start(config, cleanup)
                _watch(group)
            finally:
                _ignore_stop_signals()  # nothing interrupts the orderly stop that follows
    except ShutdownRequested:
        console.say("everything stopped")
        return 0
    except (ConfigError, RuntimeError, OSError, subprocess.SubprocessError) as error:
        console.fail(str(error))
        return 1
    return 0
