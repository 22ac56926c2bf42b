"""Real single-node search engines for tests, from their server jars on Maven Central, each run in one JVM.

OpenSearch 2.19.6 and Elasticsearch 7.10.2: each has a directory here with a pom (the jars, resolved once into
~/.m2 by Maven) and a small starter class, compiled once per content of pom and source into a cache directory
keyed by their hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .ports import free_port

HERE = Path(__file__).resolve().parent
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:build-classpath"
CACHE_ROOT = Path(os.environ.get("TEMPORAL_TOOLS_CACHE", Path.home() / ".cache" / "temporal-dsql-runtime"))
JVM_OPTIONS = ("-Xms256m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Engine:
    """One search engine's Maven project: `<directory>/pom.xml` and its starter class."""

    name: str
    version: str
    """The version its pom names, which the started node must report."""
    directory: Path
    main_class: str

    @property
    def pom(self) -> Path:
        """The Maven project naming the jars."""
        return self.directory / "pom.xml"

    @property
    def source(self) -> Path:
        """The starter class's source file."""
        return (self.directory / "src" / "main" / "java" / Path(*self.main_class.split("."))).with_suffix(
            ".java"
        )


OPENSEARCH = Engine("opensearch", "2.19.6", HERE / "opensearch", "dsqlruntime.testsupport.TestOpenSearchNode")
ELASTICSEARCH = Engine(
    "elasticsearch", "7.10.2", HERE / "elasticsearch", "dsqlruntime.testsupport.TestElasticsearchNode"
)


def _build_key(engine: Engine) -> str:
    digest = hashlib.sha256()
    for path in (engine.pom, engine.source):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} is not on PATH: the OpenSearch test node needs Java 17 and Maven (apt: maven)")
    return found


def _resolve_classpath(engine: Engine, output: Path) -> None:
    """Maven writes the dependency classpath; offline first (a warm ~/.m2), online from Central otherwise."""
    command = [
        _require("mvn"),
        "-q",
        "-B",
        "-f",
        str(engine.pom),
        DEPENDENCY_PLUGIN,
        f"-Dmdep.outputFile={output}",
    ]
    if subprocess.run([*command, "-o"], capture_output=True).returncode == 0:
        return
    online = subprocess.run(command, capture_output=True, text=True)
    if online.returncode != 0:
        pytest.fail(f"resolving {engine.name}'s jars failed:\n{online.stdout[-3000:]}{online.stderr[-3000:]}")


def node_build(engine: Engine) -> tuple[Path, str]:
    """(classes directory, classpath) of the starter, built now unless this pom and source were built before."""
    target = CACHE_ROOT / f"{engine.name}-node-{_build_key(engine)}"
    if not (target / "classpath.txt").is_file():
        CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".opensearch-node.", dir=CACHE_ROOT))
        try:
            _resolve_classpath(engine, staging / "classpath.txt")
            classpath = (staging / "classpath.txt").read_text().strip()
            subprocess.run(
                [
                    _require("javac"),
                    "--release",
                    "17",
                    "-cp",
                    classpath,
                    "-d",
                    str(staging / "classes"),
                    str(engine.source),
                ],
                check=True,
                capture_output=True,
            )
            try:
                staging.rename(target)
            except OSError:  # a concurrent run built the same key first: its build serves as well
                if not (target / "classpath.txt").is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    classpath = (target / "classpath.txt").read_text().strip()
    return target / "classes", classpath


@dataclass
class SearchNode:
    """A node on 127.0.0.1 whose data survives `stop()` and `start()`."""

    engine: Engine
    home: Path
    http_port: int
    transport_port: int
    process: subprocess.Popen[bytes] | None = None
    started_in: list[float] = field(default_factory=list)
    """Seconds each start took until the cluster was green."""

    @property
    def url(self) -> str:
        """The node's HTTP endpoint."""
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> None:
        """Start the JVM and wait until the cluster answers green (or yellow: one node holds no replicas)."""
        classes, classpath = node_build(self.engine)
        began = time.monotonic()
        log = (self.home / "node.log").open("ab")
        self.process = subprocess.Popen(
            [
                _require("java"),
                *JVM_OPTIONS,
                "-cp",
                f"{classes}{os.pathsep}{classpath}",
                self.engine.main_class,
                str(self.home),
                str(self.http_port),
                str(self.transport_port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_healthy(began)
        self.started_in.append(time.monotonic() - began)
        _, about = self.request("GET", "/")
        running = about.get("version", {}).get("number") if isinstance(about, dict) else None
        assert running == self.engine.version, f"{self.engine.name} reports version {running}"

    def stop(self) -> None:
        """SIGTERM (the node closes its indices cleanly) and wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.process = None

    def request(self, method: str, path: str, body: object | None = None) -> tuple[int, object]:
        """One JSON request straight to the node (not through any proxy)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def log(self) -> str:
        """The node's output so far."""
        return (self.home / "node.log").read_text(errors="replace")

    def _wait_healthy(self, began: float) -> None:
        while time.monotonic() - began < START_TIMEOUT:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(
                    f"{self.engine.name} node exited {self.process.returncode}:\n{self.log()[-4000:]}"
                )
            try:
                status, health = self.request("GET", "/_cluster/health?wait_for_status=yellow&timeout=5s")
                if status == 200 and isinstance(health, dict) and health.get("status") in ("green", "yellow"):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"{self.engine.name} node not healthy after {START_TIMEOUT}s:\n{self.log()[-4000:]}")


@contextmanager
def running_search_node(engine: Engine) -> Iterator[SearchNode]:
    """A started node in a temp dir, stopped and removed on exit."""
    home = Path(tempfile.mkdtemp(prefix=f"tdr-{engine.name}-"))
    node = SearchNode(engine, home, free_port(), free_port())
    try:
        node.start()
        yield node
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)
