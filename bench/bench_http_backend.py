"""Requests per second of the OpenAI-compatible HTTP backend against a local stub server.

The stub (127.0.0.1, a thread per connection) answers every chat completion after a
fixed artificial latency, so the ideal rate at concurrency c is c / latency. Reports,
for concurrency 1, 8 and 32, the backend's rate, a bare httpx.AsyncClient's rate on the
same requests in the same run (the floor set by this machine and the stub), and the
backend's ratio to each. Run:

    python bench/bench_http_backend.py [--latency 0.05] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from valind.generate.backends.base import SamplingSettings, make_backend


def start_stub(latency: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        disable_nagle_algorithm = True  # else headers and body in two writes cost a 40 ms delayed ACK

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            time.sleep(latency)
            reply = {"choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": body["messages"][-1]["content"]}}]}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # listen backlog: 32 clients connecting at once overflow the default 5

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def bare_httpx(url: str, conversations: list, concurrency: int) -> None:
    """The same requests with a plain AsyncClient and a semaphore: no retries, no parsing."""
    import httpx

    async def run():
        gate = asyncio.Semaphore(concurrency)
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            async def one(conv):
                async with gate:
                    r = await client.post(url + "/chat/completions", json={"model": "stub", "messages": conv})
                    return r.json()["choices"][0]["message"]["content"]
            return await asyncio.gather(*(one(c) for c in conversations))

    out = asyncio.run(run())
    assert out == [c[-1]["content"] for c in conversations]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency", type=float, default=0.05, help="stub server latency per request (s)")
    ap.add_argument("--rounds", type=int, default=20, help="requests per level = rounds x concurrency")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = ap.parse_args()

    server = start_stub(args.latency)
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    print(f"# HTTP backend vs stub server: latency {args.latency * 1000:.0f} ms, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d')}")
    print(f"{'concurrency':>11} {'requests':>8} {'backend req/s':>13} {'bare httpx req/s':>16} "
          f"{'ideal req/s':>11} {'of bare':>7} {'of ideal':>8}")
    for c in args.concurrency:
        n = args.rounds * c
        backend = make_backend("openai", "stub", base_url=url, concurrency=c, max_retries=0, timeout=30)
        backend.generate([[{"role": "user", "content": "warm-up"}]] * c, SamplingSettings())
        conversations = [[{"role": "user", "content": f"request {i}"}] for i in range(n)]
        start = time.perf_counter()
        out = backend.generate(conversations, SamplingSettings(max_new_tokens=8))
        seconds = time.perf_counter() - start
        assert [o.text for o in out] == [f"request {i}" for i in range(n)]
        start = time.perf_counter()
        bare_httpx(url, conversations, c)
        bare_seconds = time.perf_counter() - start
        rate, bare, ideal = n / seconds, n / bare_seconds, c / args.latency
        print(f"{c:>11} {n:>8} {rate:>13.1f} {bare:>16.1f} {ideal:>11.1f} {rate / bare:>7.2f} {rate / ideal:>8.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
