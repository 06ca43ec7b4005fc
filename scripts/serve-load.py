#!/usr/bin/env python3
"""Bounded load test of a running `panllama serve` on loopback: N streaming completions at once, each
asking for exactly M tokens (ignore_eos). Prints per-request and total tokens/s and checks each stream's
usage. Loopback only; at most 256 requests; every request has a timeout.

    ./panllama serve -c 8192 --parallel 32 --port 8080 &
    python3 scripts/serve-load.py --port 8080 --requests 32 --tokens 32
"""
import argparse
import http.client
import json
import sys
import threading
import time


def stream(port, prompt, tokens, timeout, results, i):
    body = json.dumps({"prompt": prompt, "max_tokens": tokens, "ignore_eos": True, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}})
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    first = None
    usage = None
    done = False
    for raw in resp:
        line = raw.decode("utf-8").strip()
        if not line.startswith("data: "):
            continue
        data = line[6:]
        if data == "[DONE]":
            done = True
            break
        chunk = json.loads(data)
        if first is None and chunk.get("choices") and chunk["choices"][0].get("text"):
            first = time.monotonic() - t0
        if chunk.get("usage"):
            usage = chunk["usage"]
    conn.close()
    results[i] = {"status": resp.status, "done": done, "usage": usage, "first": first, "seconds": time.monotonic() - t0}


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    if not 1 <= a.requests <= 256:
        sys.exit("--requests must be in [1, 256]")
    results = [None] * a.requests
    threads = [threading.Thread(target=stream, args=(a.port, f"Once upon a time, story {i}:", a.tokens, a.timeout, results, i))
               for i in range(a.requests)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.timeout)
    wall = time.monotonic() - t0
    ok = [r for r in results if r and r["status"] == 200 and r["done"] and r["usage"] and r["usage"]["completion_tokens"] == a.tokens]
    total = sum(r["usage"]["completion_tokens"] for r in ok)
    firsts = sorted(r["first"] for r in ok if r["first"] is not None)
    if not firsts:
        sys.exit(f"0/{a.requests} streams complete")
    print(f"{len(ok)}/{a.requests} streams complete with {a.tokens} tokens each; {total} tokens in {wall:.2f} s: "
          f"{total / wall:.1f} tokens/s in all, {total / wall / a.requests:.1f} per stream; "
          f"time to first token p50 {percentile(firsts, 50):.2f} s, p99 {percentile(firsts, 99):.2f} s")
    sys.exit(0 if len(ok) == a.requests else 1)


if __name__ == "__main__":
    main()
