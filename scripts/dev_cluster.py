"""The main job: a local Temporal cluster on SQLite, all four services in one process, started by our launcher.

Registers the `default` namespace once the frontend answers, prints the address, and stops cleanly on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

REPO_ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = Path(os.environ.get("TEMPORAL_DEV_STATE_DIR", REPO_ROOT / ".tools" / "dev"))
READY_TIMEOUT = 120.0


def dev_environment() -> dict[str, str]:
    """The SQLite profile on loopback; anything already set in the environment wins."""
    defaults = {
        "TEMPORAL_SQL_PLUGIN_NAME": "sqlite",
        "TEMPORAL_SQL_DATABASE": str(STATE_DIR / "temporal.db"),
        "TEMPORAL_RUNTIME_DIR": str(STATE_DIR / "run"),
        "TEMPORAL_SERVER_BINARY": str(REPO_ROOT / ".tools" / "bin" / "temporal-server"),
        "BIND_ON_IP": "127.0.0.1",
        "TEMPORAL_LOG_LEVEL": "warn",
    }
    return defaults | dict(os.environ)


async def register_default_namespace(address: str, server: subprocess.Popen[bytes]) -> None:
    """Wait until the frontend answers, then make sure the `default` namespace exists."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if server.poll() is not None:
            raise SystemExit(f"the launcher exited with code {server.returncode}")
        try:
            client = await Client.connect(address)
            await client.workflow_service.register_namespace(
                RegisterNamespaceRequest(
                    namespace="default", workflow_execution_retention_period=Duration(seconds=86400)
                )
            )
            return
        except RPCError as error:
            if error.status == RPCStatusCode.ALREADY_EXISTS:
                return
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"Temporal did not become ready within {READY_TIMEOUT:.0f}s: {error}"
                ) from None
        except RuntimeError as error:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"Temporal did not become ready within {READY_TIMEOUT:.0f}s: {error}"
                ) from None
        await asyncio.sleep(0.5)


def main() -> int:
    environment = dev_environment()
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    address = f"{environment['BIND_ON_IP']}:{environment.get('TEMPORAL_FRONTEND_GRPC_PORT', '7233')}"
    launcher = Path(sys.executable).with_name("temporal-dsql-runtime")
    server = subprocess.Popen([str(launcher), "start"], env=environment)

    def stop(signum: int, frame: object) -> None:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        asyncio.run(register_default_namespace(address, server))
        print(
            f"\nTemporal is ready: frontend {address}, namespace 'default', data in {STATE_DIR}.", flush=True
        )
        print("Press Ctrl-C to stop.", flush=True)
        code = server.wait()
    finally:
        if server.poll() is None:
            server.kill()
    print(f"Temporal stopped (exit code {code}).", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
