"""The address this process tells the cluster to reach it on (Temporal's `broadcastAddress`).

Sources, the first that answers wins: TEMPORAL_BROADCAST_ADDRESS; BIND_ON_IP when it is a concrete address;
the ECS task metadata endpoint (awsvpc); POD_IP; the host name, resolved; the network interfaces. A wildcard
bind address (0.0.0.0, ::) is never broadcast. Each network step has a timeout, after which the next is tried.
"""

from __future__ import annotations

import fcntl
import http.client
import ipaddress
import json
import socket
import struct
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import ConfigError, UnavailableError

if TYPE_CHECKING:
    from .settings import Settings

T = TypeVar("T")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ROUTE_PROBES = ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1"))
"""Documentation addresses (RFC 5737, RFC 3849): a UDP connect() to one sends nothing, it only makes the
kernel pick the source address its routing table would use."""

SIOCGIFADDR = 0x8915
IF_INET6 = Path("/proc/net/if_inet6")
MAX_METADATA_BYTES = 1_000_000


@dataclass(frozen=True)
class Discovery:
    """The address to broadcast, the source it came from, and why earlier sources were passed over."""

    address: str
    source: str
    passed_over: tuple[str, ...] = ()


class NotFound(Exception):
    """A source gave no usable address; the message says why."""


def discover_broadcast_address(settings: Settings) -> Discovery:
    """The broadcast address for this process, from explicit settings or the network around it."""
    return discover(
        bind_on_ip=settings.bind_on_ip,
        broadcast_address=settings.broadcast_address,
        ecs_metadata_uri=settings.ecs_container_metadata_uri,
        pod_ip=settings.pod_ip,
        hostname=settings.hostname,
        timeout=settings.address_discovery_timeout,
    )


def discover(
    *,
    bind_on_ip: str | None = None,
    broadcast_address: str | None = None,
    ecs_metadata_uri: str | None = None,
    pod_ip: str | None = None,
    hostname: str | None = None,
    timeout: float = 1.0,
) -> Discovery:
    """Try each source in order.

    A malformed explicit value raises ConfigError; when no source gives an address, UnavailableError.
    """
    if broadcast_address:
        address = parse_ip(broadcast_address, "TEMPORAL_BROADCAST_ADDRESS")
        if address.is_unspecified:
            raise ConfigError(
                f"TEMPORAL_BROADCAST_ADDRESS: {broadcast_address} is a wildcard; "
                "accepts a concrete IP address other hosts can reach"
            )
        return Discovery(str(address), "TEMPORAL_BROADCAST_ADDRESS")
    bind = parse_ip(bind_on_ip, "BIND_ON_IP") if bind_on_ip else None
    if bind is not None and not bind.is_unspecified:
        return Discovery(str(bind), "BIND_ON_IP")
    prefer_v6 = bind is not None and bind.version == 6
    name = hostname or socket.gethostname()
    sources: list[tuple[str, Callable[[], str]]] = []
    if ecs_metadata_uri:
        uri = ecs_metadata_uri
        sources.append(("ECS task metadata", lambda: ecs_task_address(uri, timeout, prefer_v6)))
    if pod_ip:
        sources.append(("POD_IP", lambda: str(parse_ip(pod_ip, "POD_IP"))))
    sources.append((f"hostname {name}", lambda: hostname_address(name, timeout, prefer_v6)))
    sources.append(("network interfaces", lambda: interface_address(prefer_v6)))
    passed_over: list[str] = []
    for source, find in sources:
        try:
            return Discovery(find(), source, tuple(passed_over))
        except NotFound as reason:
            passed_over.append(f"{source}: {reason}")
    raise UnavailableError(
        f"no address to broadcast ({'; '.join(passed_over)}); set TEMPORAL_BROADCAST_ADDRESS or BIND_ON_IP"
    )


def parse_ip(text: str, variable: str) -> IPAddress:
    """An IPv4 or IPv6 address, or a one-line error naming the variable it came from."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ConfigError(
            f"{variable}: {text!r} is not an IP address; accepts an IPv4 or IPv6 address"
        ) from None


def ecs_task_address(metadata_uri: str, timeout: float, prefer_v6: bool = False) -> str:
    """This task's awsvpc address from `${ECS_CONTAINER_METADATA_URI_V4}/task` (Containers[].Networks[])."""
    if not metadata_uri.startswith(("http://", "https://")):
        raise ConfigError(f"ECS_CONTAINER_METADATA_URI_V4: {metadata_uri!r} is not an http URL")
    url = metadata_uri.rstrip("/") + "/task"
    try:
        document = within(timeout, lambda: _get_json(url, timeout))
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise NotFound(f"{url}: {_reason(error)}") from None
    candidates = list(_awsvpc_addresses(document))
    chosen = choose(candidates, prefer_v6)
    if chosen is None:
        raise NotFound(f"{url}: no awsvpc network address in the task metadata")
    return chosen


def hostname_address(name: str, timeout: float, prefer_v6: bool = False) -> str:
    """The first usable address `name` resolves to."""
    try:
        found = within(timeout, lambda: socket.getaddrinfo(name, None, type=socket.SOCK_STREAM))
    except OSError as error:
        raise NotFound(f"does not resolve ({_reason(error)})") from None
    except UnicodeError:
        raise NotFound("is not a valid host name (a label is empty or over 63 characters)") from None
    candidates = [str(info[4][0]) for info in found]
    chosen = choose(candidates, prefer_v6)
    if chosen is None:
        raise NotFound(f"resolves only to {', '.join(sorted(set(candidates)))}")
    return chosen


def interface_address(prefer_v6: bool = False) -> str:
    """The source address of the default route, else the first non-loopback interface address."""
    chosen = choose(routed_addresses(), prefer_v6) or choose(interface_addresses(), prefer_v6)
    if chosen is None:
        raise NotFound("no interface has a non-loopback address")
    return chosen


def routed_addresses() -> list[str]:
    """Per family, the address the kernel would send from toward a documentation address (no packet)."""
    found = []
    for family, probe in ROUTE_PROBES:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 9))
                found.append(str(udp.getsockname()[0]))
        except OSError:
            continue
    return found


def interface_addresses() -> list[str]:
    """Every interface's IPv4 address (SIOCGIFADDR) and global IPv6 address (/proc/net/if_inet6)."""
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for _, name in socket.if_nameindex():
            try:
                reply = fcntl.ioctl(udp.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
            found.append(socket.inet_ntoa(reply[20:24]))
    try:
        lines = IF_INET6.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and fields[3] == "00":
            found.append(str(ipaddress.IPv6Address(bytes.fromhex(fields[0]))))
    return found


def choose(candidates: Iterable[str], prefer_v6: bool = False) -> str | None:
    """The first address another host could reach (not loopback, link-local, wildcard or multicast)."""
    usable = []
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if not (
            address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast
        ):
            usable.append(address)
    usable.sort(key=lambda address: (address.version == 6) != prefer_v6)
    return str(usable[0]) if usable else None


def within(timeout: float, work: Callable[[], T]) -> T:
    """Run `work` in a daemon thread and wait at most `timeout` s; a late answer raises `TimeoutError`."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as error:
            outcome.append((False, error))

    thread = threading.Thread(target=run, name="address-discovery", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise TimeoutError(f"no answer within {timeout:g} s")
    succeeded, value = outcome[0]
    if succeeded:
        result: T = value
        return result
    raise value


def _get_json(url: str, timeout: float) -> Any:
    """GET a JSON document, ignoring any HTTP proxy (the metadata endpoint is link-local)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        return json.loads(response.read(MAX_METADATA_BYTES))


def _awsvpc_addresses(document: Any) -> Iterable[str]:
    """Every address of every awsvpc network in a task metadata document, IPv4 before IPv6."""
    for container in _list(_field(document, "Containers")):
        for network in _list(_field(container, "Networks")):
            if _field(network, "NetworkMode") == "awsvpc":
                for family in ("IPv4Addresses", "IPv6Addresses"):
                    yield from (
                        address for address in _list(_field(network, family)) if isinstance(address, str)
                    )


def _field(document: Any, name: str) -> Any:
    return document.get(name) if isinstance(document, dict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _reason(error: BaseException) -> str:
    """A short description of why a network step failed: the innermost OS error's text where there is one."""
    reason = getattr(error, "reason", None)
    if isinstance(reason, BaseException):
        return _reason(reason)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, http.client.HTTPException):
        return f"not an HTTP response ({type(error).__name__})"
    return str(reason or error) or type(error).__name__
