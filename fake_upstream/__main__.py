"""``python -m fake_upstream --port 8765 --anime 300 [--seed 1]``.

Prints the base URL on the first stdout line (the client URLs go to stderr), then serves on
127.0.0.1 until interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from types import FrameType

from fake_upstream.server import DEFAULT_KODIK_TOKEN, FakeUpstream


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fake_upstream",
        description="Fake Shikimori + Kodik + aniwatch-api server on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--anime", type=int, default=300, help="catalog size (>= 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kodik-token", default=DEFAULT_KODIK_TOKEN)
    parser.add_argument(
        "--shikimori-limits",
        default="",
        help="enforce Shikimori limits, e.g. 5/1,90/60 (requests/seconds, fixed windows)",
    )
    args = parser.parse_args(argv)
    if args.anime < 1:
        parser.error("--anime must be >= 1")

    started = time.perf_counter()
    try:
        upstream = FakeUpstream(
            anime=args.anime, seed=args.seed, port=args.port, kodik_token=args.kodik_token
        )
    except OSError as exc:
        parser.error(f"cannot listen on 127.0.0.1:{args.port}: {exc}")
    if args.shikimori_limits:
        try:
            windows = [
                (int(limit), float(seconds))
                for limit, seconds in (w.split("/") for w in args.shikimori_limits.split(","))
            ]
        except ValueError:
            parser.error("--shikimori-limits: expected e.g. 5/1,90/60")
        upstream.state.set_rate_limits(windows)
    upstream.start()
    print(upstream.base_url, flush=True)
    print(
        f"fake upstream: {len(upstream.catalog)} anime (seed {args.seed}) generated in "
        f"{time.perf_counter() - started:.2f}s\n"
        f"  Shikimori base URL: {upstream.shikimori_url}  (User-Agent required)\n"
        f"  Kodik base URL:     {upstream.kodik_url}  (token={upstream.kodik_token})\n"
        f"  aniwatch-api URL:   {upstream.stream_url}\n"
        f"  control API:        {upstream.base_url}/_control/...\n"
        f"  start Kitsu with:   KITSU_UPSTREAM_URL={upstream.base_url} "
        f"KODIK_TOKEN={upstream.kodik_token}",
        file=sys.stderr,
        flush=True,
    )

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        while not done.wait(0.5):
            pass
    finally:
        upstream.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
