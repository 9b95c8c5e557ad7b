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

Start-up (issue 14): the parent loads the application once (`hotline.warmup`: Django, every
view, the classifier model, jieba's dictionary) and forks the workers from it, so a worker (also
one started again after a crash) is warm the moment it exists and shares those pages with its
siblings. Each worker binds its socket only when its application is loaded, so no connection
waits in the backlog of a worker that is still starting, and then prints
`hotline web: worker <pid> ready on <host>:<port>`: the readiness signal the drills wait for.
Spawned workers each imported and loaded everything on their own, 5 s on a quiet 2-core
machine and past 90 s under load, with their sockets already taking connections.

Each worker leads a session of its own (`setsid`). Linux's scheduler, where autogroup is on (as on
the bench machine), shares the CPU between sessions before processes: the two workers in one session
got one share between them, while PostgreSQL gives every backend a session of its own and the Celery
worker has one. Under a surge the accept waited on the routing behind it (bench/intake, session 21).
Out of the parent's process group, a worker checks every tick that its parent is still there, and
stops (its requests finished) when it is not.

The parent only supervises: a worker that dies is started again at once (no faster than once a
second per slot); SIGTERM or SIGINT is passed to every worker, which finishes its requests
(graceful timeout) and exits. Settings that refuse to start (hotline/settings_production.py: a
known secret key, DEBUG, …) end the service in the parent, with the reason, instead of every
worker failing and being restarted forever behind a live parent.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

import django
import uvicorn
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

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


class _Worker(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, parent: int) -> None:
        super().__init__(config)
        self.parent = parent

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            name = self.config.host, self.config.port
            print(f"hotline web: worker {os.getpid()} ready on {name[0]}:{name[1]}", file=sys.stderr, flush=True)

    async def on_tick(self, counter: int) -> bool:
        # In its own session a worker no longer shares its parent's process group, so a kill of that
        # group (SIGKILL to the parent's group by a supervisor) does not reach it: a worker whose
        # parent is gone finishes its requests and leaves, instead of serving on as an orphan.
        if not self.should_exit and os.getppid() != self.parent:
            print(f"hotline web: worker {os.getpid()}: the parent is gone; stopping", file=sys.stderr, flush=True)
            self.should_exit = True
        return await super().on_tick(counter)


def _worker(host: str, port: int, options: dict[str, Any], parent: int) -> None:
    # The parent's handlers forward signals to the workers; in a worker they would signal its siblings.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # A session of its own: the scheduler's share per session (autogroup; the module docstring).
    os.setsid()
    config = uvicorn.Config(APP, host=host, port=port, **options)
    config.load()  # hotline.asgi, already warm in the parent: the socket comes after, never before
    _Worker(config, parent).run(sockets=[_listen(host, port)])


def preload() -> None:
    """Load the application in the parent, once, for every worker it will fork."""
    # One BLAS thread: a worker is one core's worth of requests, and the parent must have no
    # threads when it forks (a thread's locks would be copied held).
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    django.setup(set_prefix=False)
    from hotline.warmup import warm_up  # after django.setup(): it imports models and views

    warm_up()
    # A connection opened while loading would be inherited by every worker, and a psycopg pool's
    # threads would not be: none may survive into a fork.
    connections.close_all()
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if threads:
        raise RuntimeError(f"hotline.serve: threads started while loading the application: {threads}")


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
    preload()
    context = multiprocessing.get_context("fork")
    workers: list[multiprocessing.process.BaseProcess] = []
    started_at: dict[int, float] = {}
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(args.host, args.port, options, os.getpid()), daemon=False)
        process.start()
        started_at[process.pid or 0] = time.monotonic()
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
        multiprocessing.connection.wait([process.sentinel for process in workers], timeout=1.0)
        for i, process in enumerate(workers):
            if process.is_alive() or stopping:
                continue
            print(f"hotline web: worker {process.pid} exited ({process.exitcode}); starting another",
                  file=sys.stderr, flush=True)  # fmt: skip
            # a worker that cannot start (bad configuration) is retried once a second, not in a spin
            time.sleep(max(0.0, started_at.pop(process.pid or 0, 0.0) + 1.0 - time.monotonic()))
            workers[i] = start()
    deadline = time.monotonic() + args.timeout_graceful_shutdown + 5
    for process in workers:
        process.join(timeout=max(0.1, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
