"""Benchmark: WhatsApp webhook deliveries accepted per second through the real HTTP stack.

Starts gunicorn (gthread, 2 workers) on a free loopback port against a temporary data
directory (SQLite, migrated first), then POSTs signed webhook deliveries in Meta's shape
from several client threads (httpx) and counts the 200 answers per second. Each accepted
delivery went through the signature check, the dedup read, the inbound insert and the Huey
enqueue (SQLite queue; no consumer runs, so the queue depth is checked at the end).
The mix: 20% of deliveries are redeliveries of earlier ones (Meta redelivers), 5% carry a
bad signature (answered 403, not counted as accepted).

    python bench/whatsapp.py --quick      # a few thousand deliveries, well under 10 minutes

Last line: ``webhooks_per_s=N``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipadu.messaging.types.whatsapp import payloads  # noqa: E402
from sipadu.messaging.types.whatsapp.signature import sign  # noqa: E402

APP_SECRET = "bench-app-secret"  # noqa: S105 (a throwaway test secret)
PHONE_NUMBER_ID = "100000000000001"
SETTINGS = """
from sipadu.settings import *  # noqa: F403
# The webhook mounted as in production (works before and after the project urls include it).
ROOT_URLCONF = "sipadu.messaging.tests.urls"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_plan(count: int, seed: int = 5) -> tuple[list[tuple[bytes, str]], int]:
    """(body, signature) pairs and the number of distinct valid messages among them."""
    rng = random.Random(seed)
    plan: list[tuple[bytes, str]] = []
    originals: list[tuple[bytes, str]] = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.20 and originals:
            plan.append(rng.choice(originals))
            continue
        sender = f"62812{i:08d}"
        body = payloads.dumps(
            payloads.envelope(PHONE_NUMBER_ID, messages=[payloads.text(sender, f"halo {i}")])
        )
        if roll < 0.25:
            plan.append((body, sign(body, "not-the-secret")))
            continue
        item = (body, sign(body, APP_SECRET))
        originals.append(item)
        plan.append(item)
    return plan, len(originals)


def _raw_request(host: str, port: int, path: str, body: bytes, signature: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nX-Hub-Signature-256: {signature}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class RawClient:
    """A minimal keep-alive HTTP/1.1 client: requests are pre-serialised bytes, so the load
    generator spends as little as possible of the CPU it shares with the server."""

    def __init__(self, host: str, port: int) -> None:
        self.addr = (host, port)
        self.sock = socket.create_connection(self.addr)
        self.buffer = b""

    def post(self, raw: bytes) -> int:
        self.sock.sendall(raw)
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            rest += chunk
        self.buffer = rest[length:]
        return status

    def close(self) -> None:
        self.sock.close()


def run_load_raw(
    host: str, port: int, path: str, plan: list[tuple[bytes, str]], threads: int
) -> tuple[float, dict[int, int], list[float]]:
    """Like :func:`run_load` with :class:`RawClient` (requests serialised before timing)."""
    raws = [_raw_request(host, port, path, body, sig) for body, sig in plan]
    codes: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    shares = [raws[i::threads] for i in range(threads)]

    def worker(share: list[bytes]) -> None:
        local_codes: dict[int, int] = {}
        local_lat: list[float] = []
        client = RawClient(host, port)
        for raw in share:
            started = time.perf_counter()
            try:
                status = client.post(raw)
            except (ConnectionError, OSError):
                client.close()
                client = RawClient(host, port)
                status = client.post(raw)
            local_lat.append(time.perf_counter() - started)
            local_codes[status] = local_codes.get(status, 0) + 1
        client.close()
        with lock:
            for code, n in local_codes.items():
                codes[code] = codes.get(code, 0) + n
            latencies.extend(local_lat)

    pool = [threading.Thread(target=worker, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, codes, latencies


def run_load(
    url: str, plan: list[tuple[bytes, str]], threads: int
) -> tuple[float, dict[int, int], list[float]]:
    """POST every delivery of ``plan`` from ``threads`` httpx clients; (seconds, codes,
    latencies)."""
    codes: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    cursor = iter(range(len(plan)))
    cursor_lock = threading.Lock()

    def worker() -> None:
        local_codes: dict[int, int] = {}
        local_lat: list[float] = []
        with httpx.Client(timeout=30) as client:
            while True:
                with cursor_lock:
                    index = next(cursor, None)
                if index is None:
                    break
                body, signature = plan[index]
                started = time.perf_counter()
                response = client.post(
                    url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": signature,
                    },
                )
                local_lat.append(time.perf_counter() - started)
                local_codes[response.status_code] = local_codes.get(response.status_code, 0) + 1
        with lock:
            for code, n in local_codes.items():
                codes[code] = codes.get(code, 0) + n
            latencies.extend(local_lat)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, codes, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="6,000 deliveries instead of 30,000")
    parser.add_argument("--deliveries", type=int, default=0)
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--server-threads", type=int, default=4, help="gthread threads/worker")
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="load generator for the main run (raw: pre-serialised keep-alive sockets)",
    )
    args = parser.parse_args()
    print(machine.reference(), file=sys.stderr, flush=True)
    count = args.deliveries or (6000 if args.quick else 30000)

    data_dir = Path(tempfile.mkdtemp(prefix="sipadu-bench-wa-"))
    (data_dir / "bench_settings.py").write_text(SETTINGS)
    env = {
        **os.environ,
        "PYTHONPATH": f"{data_dir}{os.pathsep}{ROOT}",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "SIPADU_DATA_DIR": str(data_dir),
        "SIPADU_HTTPS": "0",
        "SIPADU_SECRET_KEY": "bench-secret-key-not-for-production",
        "SIPADU_JOBS_IMMEDIATE": "0",
        "SIPADU_LOG_LEVEL": "ERROR",
        "SIPADU_WHATSAPP_APP_SECRET": APP_SECRET,
    }
    env.pop("DATABASE_URL", None)
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [sys.executable, "-m", "sipadu.cli", "migrate", "--verbosity", "0"], env=env, check=True
    )
    port = free_port()
    server = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "sipadu.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            "2",
            "--threads",
            str(args.server_threads),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/webhooks/whatsapp/"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        warm_plan, _ = build_plan(300, seed=99)
        run_load(url, warm_plan, args.threads)
        # The httpx figure: what a typical Python client gets (its own CPU use included).
        httpx_plan, _ = build_plan(count // 4, seed=7)
        httpx_seconds, httpx_codes, _lat = run_load(url, httpx_plan, args.threads)
        httpx_rate = httpx_codes.get(200, 0) / httpx_seconds

        plan, distinct = build_plan(count)
        if args.client == "httpx":
            seconds, codes, latencies = run_load(url, plan, args.threads)
        else:
            seconds, codes, latencies = run_load_raw(
                "127.0.0.1", port, "/webhooks/whatsapp/", plan, args.threads
            )
    finally:
        server.terminate()
        server.wait(timeout=30)

    db = sqlite3.connect(data_dir / "sipadu.sqlite3")
    stored = db.execute("SELECT COUNT(*) FROM messaging_inboundmessage").fetchone()[0]
    queue = sqlite3.connect(data_dir / "huey.sqlite3")
    queued = queue.execute("SELECT COUNT(*) FROM task").fetchone()[0]
    accepted = codes.get(200, 0)
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(f"machine: {platform.node()} {platform.machine()} cpus={os.cpu_count()}")
    print(
        f"python {platform.python_version()}, gunicorn gthread 2 workers x "
        f"{args.server_threads} threads, {args.threads} client threads (same machine)"
    )
    print(f"deliveries={len(plan)} codes={dict(sorted(codes.items()))} seconds={seconds:.2f}")
    print(f"distinct valid messages={distinct} stored={stored} (all runs, incl. warm-up)")
    print(f"huey tasks queued={queued} latency p50={p50:.1f}ms p99={p99:.1f}ms")
    print(
        f"httpx client (same machine, {len(httpx_plan)} deliveries): "
        f"webhooks_per_s={httpx_rate:.0f}"
    )
    print(f"main run client={args.client}")
    print(f"all_requests_per_s={len(plan) / seconds:.0f}")
    print(f"webhooks_per_s={accepted / seconds:.0f}")


if __name__ == "__main__":
    main()
