"""Start and stop a private ClickHouse 18.16 server for tests and benchmarks.

The server is Debian's `clickhouse-server` 18.16.1 (`/usr/sbin/clickhouse-server`,
started as `clickhouse-server --config-file=<dir>/config.xml`). Everything it owns lives
under one work directory that the caller names:

    <workdir>/config.xml, users.xml   written here, never the system ones in /etc
    <workdir>/data/                   <path>: metadata, parts, preprocessed configs
    <workdir>/tmp/, user_files/       <tmp_path>, <user_files_path>
    <workdir>/log/                    server.log, server.err.log, stdout.log

Guarantees:
  * It listens on 127.0.0.1 only, on a TCP port and an HTTP port found free by binding
    (from 19000 upwards); no interserver port, no HTTPS, no other listen address.
  * Its timezone is UTC, so DateTime text round-trips exactly.
  * `stop()` sends SIGTERM to the one PID this module started, waits, then SIGKILL to
    that same PID. `start()` registers `stop()` with atexit and installs SIGTERM/SIGINT
    handlers that raise SystemExit, so `finally:` blocks run and the server never
    outlives the calling script. Nothing else is ever signalled.
  * Every client call goes to 127.0.0.1.

Usage:

    with ClickHouseServer(workdir) as server:
        server.query("SELECT 1")            # -> "1\\n"

Run as a script (`python3 clickhouse_server.py --workdir DIR`) it starts a server,
prints the ports and waits until Ctrl-C, which is handy for poking at 18.16 by hand.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

SERVER_BINARY = "clickhouse-server"
CLIENT_BINARY = "clickhouse-client"
LOOPBACK = "127.0.0.1"
FIRST_PORT = 19000
LAST_PORT = 29999
# 18.16 is ready in about 0.3 s on an empty data directory; a directory holding many parts
# takes longer to attach, hence the generous bound.
DEFAULT_STARTUP_TIMEOUT_S = 60.0
# A clean shutdown of 18.16 takes 1-2 s (it waits for background pools).
DEFAULT_STOP_TIMEOUT_S = 30.0

# Settings the experimental LowCardinality type needs on 18.16, for CREATE and INSERT.
LOW_CARDINALITY_SETTINGS = {"allow_experimental_low_cardinality_type": "1"}

_CONFIG_TEMPLATE = """<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>{log_dir}/server.log</log>
        <errorlog>{log_dir}/server.err.log</errorlog>
        <size>100M</size>
        <count>1</count>
    </logger>
    <listen_host>{host}</listen_host>
    <tcp_port>{tcp_port}</tcp_port>
    <http_port>{http_port}</http_port>
    <path>{data_dir}/</path>
    <tmp_path>{tmp_dir}/</tmp_path>
    <user_files_path>{user_files_dir}/</user_files_path>
    <format_schema_path>{data_dir}/format_schemas/</format_schema_path>
    <users_config>{users_config}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <max_concurrent_queries>16</max_concurrent_queries>
    <mark_cache_size>1073741824</mark_cache_size>
    <uncompressed_cache_size>1073741824</uncompressed_cache_size>
{remote_servers}
</yandex>
"""

_USERS_TEMPLATE = """<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>{max_memory_usage}</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"""


class ClickHouseError(RuntimeError):
    """A ClickHouse client call failed; carries the query and the client's stderr."""

    def __init__(self, query: str, returncode: int, stderr: str):
        self.query = query
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(
            f"clickhouse-client exited {returncode} for query:\n  {query[:500]}\n{stderr.strip()}"
        )


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True if `port` can be bound on `host` right now (TCP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def find_free_ports(count: int, start: int = FIRST_PORT, end: int = LAST_PORT) -> list[int]:
    """Return `count` distinct ports in [start, end] that are free on 127.0.0.1.

    REQUIRES: count >= 1. Raises RuntimeError if the range holds too few free ports.
    The ports may be taken by someone else before the server binds them; `start()`
    retries with fresh ports when the server fails to bind.
    """
    ports: list[int] = []
    for port in range(start, end + 1):
        if port_is_free(port):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise RuntimeError(f"fewer than {count} free TCP ports on {LOOPBACK} in {start}..{end}")


def _default_max_memory_usage() -> int:
    """Half of physical memory, at least 2 GiB: a per-query cap for the test server."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 8 << 30
    return max(2 << 30, total // 2)


class ClickHouseServer:
    """One private clickhouse-server process rooted at `workdir`.

    REQUIRES: `clickhouse-server` and `clickhouse-client` on PATH (Debian 18.16 packages).
    The work directory is created if missing; an existing data directory is reused
    (call `wipe()` before `start()` for a clean server).
    """

    def __init__(
        self,
        workdir: os.PathLike | str,
        startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
        stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
        first_port: int = FIRST_PORT,
        verbose: bool = True,
        cluster_name: Optional[str] = None,
    ):
        self.workdir = Path(workdir).resolve()
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.first_port = first_port
        self.verbose = verbose
        # A remote_servers cluster of this one server (one shard, one replica), for
        # Distributed tables; None: no cluster.
        self.cluster_name = cluster_name
        self.tcp_port: Optional[int] = None
        self.http_port: Optional[int] = None
        self.startup_seconds: Optional[float] = None
        self._process: Optional[subprocess.Popen] = None
        self._stdout_file = None
        self._previous_handlers: dict[int, object] = {}
        self._atexit_registered = False

    # ----- paths --------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def log_dir(self) -> Path:
        return self.workdir / "log"

    @property
    def error_log(self) -> Path:
        return self.log_dir / "server.err.log"

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process else None

    def wipe(self) -> None:
        """Delete the server's data, tmp and logs. REQUIRES: the server is not running."""
        if self.running():
            raise RuntimeError("wipe() while the server is running")
        for name in ("data", "tmp", "user_files", "log"):
            shutil.rmtree(self.workdir / name, ignore_errors=True)

    # ----- lifecycle ----------------------------------------------------------------------

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, attempts: int = 3) -> None:
        """Write the configs, launch the server and wait until it answers `SELECT 1`.

        Tries up to `attempts` port pairs (a port found free may be taken before the
        server binds it). Raises RuntimeError, after printing the tail of the error log,
        if the server never becomes ready; the process is stopped in that case.
        """
        if self.running():
            return
        if shutil.which(SERVER_BINARY) is None or shutil.which(CLIENT_BINARY) is None:
            raise RuntimeError(f"{SERVER_BINARY} / {CLIENT_BINARY} not found on PATH")
        self._install_cleanup()
        last_error = ""
        search_from = self.first_port
        for _ in range(attempts):
            self.tcp_port, self.http_port = find_free_ports(2, start=search_from)
            search_from = self.http_port + 1
            self._write_configs()
            began = time.monotonic()
            self._launch()
            ok, last_error = self._wait_ready()
            if ok:
                self.startup_seconds = time.monotonic() - began
                self._log(
                    f"clickhouse-server pid {self.pid} ready on {LOOPBACK}:{self.tcp_port} "
                    f"(http {self.http_port}) after {self.startup_seconds:.2f} s"
                )
                return
            self.stop()
            if "Address already in use" not in self._error_log_tail():
                break
        self._log(f"clickhouse-server did not become ready: {last_error.strip()}")
        self._log(f"--- tail of {self.error_log} ---\n{self._error_log_tail()}")
        raise RuntimeError("clickhouse-server failed to start; see " + str(self.error_log))

    def stop(self) -> None:
        """Stop the server this object started: SIGTERM, wait, then SIGKILL. Idempotent."""
        process = self._process
        if process is None:
            return
        try:
            if process.poll() is None:
                try:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=self.stop_timeout_s)
                except subprocess.TimeoutExpired:
                    self._log(f"clickhouse-server pid {process.pid} ignored SIGTERM; SIGKILL")
                    process.kill()
                    process.wait(timeout=self.stop_timeout_s)
                except ProcessLookupError:
                    pass
        finally:
            self._process = None
            if self._stdout_file is not None:
                self._stdout_file.close()
                self._stdout_file = None
            self._restore_handlers()

    def __enter__(self) -> "ClickHouseServer":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ----- client -------------------------------------------------------------------------

    def client_command(
        self, query: Optional[str] = None, settings: Optional[dict] = None,
        database: Optional[str] = None,
    ) -> list[str]:
        """The argv of a clickhouse-client call against this server (for pipelines)."""
        if self.tcp_port is None:
            raise RuntimeError("server not started")
        argv = [CLIENT_BINARY, "--host", LOOPBACK, "--port", str(self.tcp_port)]
        if database:
            argv += ["--database", database]
        for name, value in (settings or {}).items():
            argv.append(f"--{name}={value}")
        if query is not None:
            argv += ["--query", query]
        return argv

    def query(
        self,
        sql: str,
        settings: Optional[dict] = None,
        database: Optional[str] = None,
        stdin: Optional[object] = None,
        timeout_s: Optional[float] = 600.0,
    ) -> str:
        """Run `sql` with clickhouse-client; return stdout (TabSeparated, no header).

        `stdin` may be bytes, or an open binary file, fed to the client (for INSERT).
        Raises ClickHouseError if the client exits non-zero.
        """
        argv = self.client_command(sql, settings, database)
        if isinstance(stdin, (bytes, bytearray)):
            result = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout_s)
        else:
            result = subprocess.run(
                argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                capture_output=True, timeout=timeout_s,
            )
        if result.returncode != 0:
            raise ClickHouseError(sql, result.returncode, result.stderr.decode(errors="replace"))
        return result.stdout.decode()

    # ----- internals ----------------------------------------------------------------------

    def _write_configs(self) -> None:
        for directory in (self.data_dir, self.workdir / "tmp", self.workdir / "user_files",
                          self.log_dir):
            directory.mkdir(parents=True, exist_ok=True)
        users_config = self.workdir / "users.xml"
        users_config.write_text(
            _USERS_TEMPLATE.format(max_memory_usage=_default_max_memory_usage()))
        (self.workdir / "config.xml").write_text(
            _CONFIG_TEMPLATE.format(
                host=LOOPBACK,
                tcp_port=self.tcp_port,
                http_port=self.http_port,
                data_dir=self.data_dir,
                tmp_dir=self.workdir / "tmp",
                user_files_dir=self.workdir / "user_files",
                log_dir=self.log_dir,
                users_config=users_config,
                remote_servers=self._remote_servers(),
            )
        )

    def _remote_servers(self) -> str:
        if self.cluster_name is None:
            return ""
        return (f"    <remote_servers><{self.cluster_name}><shard><replica>"
                f"<host>{LOOPBACK}</host><port>{self.tcp_port}</port>"
                f"</replica></shard></{self.cluster_name}></remote_servers>")

    def _launch(self) -> None:
        # Truncate the logs so a failure report shows this attempt only.
        for name in ("server.log", "server.err.log"):
            (self.log_dir / name).write_text("")
        self._stdout_file = open(self.log_dir / "stdout.log", "ab")
        # A new session keeps terminal Ctrl-C away from the server: our own handler stops
        # it in order, after in-flight client calls are abandoned.
        self._process = subprocess.Popen(
            [SERVER_BINARY, f"--config-file={self.workdir / 'config.xml'}"],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._stdout_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_ready(self) -> tuple[bool, str]:
        """Poll `SELECT 1` until it answers, the process dies, or the timeout passes."""
        deadline = time.monotonic() + self.startup_timeout_s
        last_error = "timeout"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False, f"server exited with code {self._process.returncode}"
            try:
                result = subprocess.run(
                    self.client_command("SELECT 1"), capture_output=True, timeout=10,
                    stdin=subprocess.DEVNULL,
                )
                if result.returncode == 0 and result.stdout.strip() == b"1":
                    return True, ""
                last_error = result.stderr.decode(errors="replace")
            except subprocess.TimeoutExpired:
                last_error = "clickhouse-client timed out"
            time.sleep(0.1)
        return False, last_error

    def _error_log_tail(self, lines: int = 30) -> str:
        chunks = []
        for path in (self.error_log, self.log_dir / "stdout.log"):
            try:
                text = path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            if text:
                chunks.append(f"[{path.name}]\n" + "\n".join(text[-lines:]))
        return "\n".join(chunks) or "(error log empty)"

    def _install_cleanup(self) -> None:
        """Make sure the server dies with us: atexit plus SIGTERM/SIGINT handlers.

        The handlers raise SystemExit (128 + signal) so that the callers' `finally:`
        blocks, which call stop(), run; atexit calls stop() as a last resort.
        """
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        for signum in (signal.SIGTERM, signal.SIGINT):
            if signum in self._previous_handlers:
                continue
            try:
                self._previous_handlers[signum] = signal.signal(signum, self._on_signal)
            except ValueError:
                pass  # not the main thread; atexit and finally still apply

    def _restore_handlers(self) -> None:
        for signum, handler in self._previous_handlers.items():
            try:
                signal.signal(signum, handler)
            except (ValueError, TypeError):
                pass
        self._previous_handlers.clear()

    def _on_signal(self, signum, _frame) -> None:
        self._log(f"signal {signum}: stopping clickhouse-server pid {self.pid}")
        self.stop()
        raise SystemExit(128 + signum)

    def _log(self, message: str) -> None:
        if self.verbose:
            print(message, file=sys.stderr, flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="directory for config, data, logs")
    parser.add_argument("--wipe", action="store_true", help="delete old data first")
    args = parser.parse_args(argv)
    server = ClickHouseServer(args.workdir)
    if args.wipe:
        server.wipe()
    try:
        server.start()
        print(f"clickhouse-client --host {LOOPBACK} --port {server.tcp_port}", flush=True)
        print("Ctrl-C to stop.", flush=True)
        while server.running():
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
