"""The production web server: N uvicorn processes, each with its own SO_REUSEPORT socket.

    python -m hotline.serve --host 127.0.0.1 --port 8000 --workers 2

`uvicorn --workers N` shares one listening socket between its workers, and which worker
accepts a new connection is up to whichever event loop wakes first: under load one worker took
87 % of the requests while the other idled (py-spy during `bench/intake/peer_compare.py`), so
two cores served like one. Here every worker binds its own socket to the same port with
SO_REUSEPORT and the kernel spreads connections over them by their address hash.

uvicorn's own proxy-header handling stays off: it would rewrite REMOTE_ADDR by its own rule
(forwarded-allow-ips), and the client's address must come from one rule only,
tickets.request_meta.client_ip with HOTLINE_TRUSTED_PROXY_HOPS. The scheme behind a TLS proxy comes
from SECURE_PROXY_SSL_HEADER (HOTLINE_BEHIND_TLS).

The parent only supervises: a worker that dies is started again after a second; SIGTERM or
SIGINT is passed to every worker, which finishes its requests (graceful timeout) and exits.
It loads the settings once before starting any worker: settings that refuse to start
(hotline/settings_production.py: a known secret key, DEBUG, …) end the service there, with the
reason, instead of every worker failing and being restarted forever behind a live parent.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import sys
import time
from typing import Any

import uvicorn
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

APP = "hotline.asgi:application"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    sock = _listen(host, port)
    server = uvicorn.Server(uvicorn.Config(APP, **options))
    server.run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
    parser.add_argument(
        "--proxy-headers", action="store_true", help="ignored (older units pass it): set HOTLINE_TRUSTED_PROXY_HOPS"
    )
    parser.add_argument("--timeout-graceful-shutdown", type=int, default=10)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    try:
        settings.SECRET_KEY  # noqa: B018 - imports the settings module, which may refuse
    except ImproperlyConfigured as exc:
        print(f"hotline web: refusing to start: {exc}", file=sys.stderr, flush=True)
        return 1

    if args.proxy_headers:
        print("hotline web: --proxy-headers is ignored; the client address follows HOTLINE_TRUSTED_PROXY_HOPS",
              file=sys.stderr, flush=True)  # fmt: skip
    options = {
        "proxy_headers": False,  # REMOTE_ADDR stays the TCP peer; see the module docstring
        "ws_per_message_deflate": False,  # product decision: CPU per event over bytes (bench/live)
        "timeout_graceful_shutdown": args.timeout_graceful_shutdown,
        "log_level": args.log_level,
    }
    _listen(args.host, args.port).close()  # fail here, once, if the port is taken by someone else
    context = multiprocessing.get_context("spawn")
    workers: list[multiprocessing.process.BaseProcess] = []
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(args.host, args.port, options), daemon=False)
        process.start()
        return process

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in workers:
            if process.pid and process.is_alive():
                os.kill(process.pid, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers.extend(start() for _ in range(args.workers))
    print(f"hotline web: {args.workers} workers on {args.host}:{args.port} (SO_REUSEPORT)", file=sys.stderr, flush=True)
    while not stopping:
        time.sleep(1)
        for i, process in enumerate(workers):
            if not process.is_alive() and not stopping:
                print(f"hotline web: worker {process.pid} exited ({process.exitcode}); starting another",
                      file=sys.stderr, flush=True)  # fmt: skip
                workers[i] = start()
    deadline = time.monotonic() + args.timeout_graceful_shutdown + 5
    for process in workers:
        process.join(timeout=max(0.1, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
