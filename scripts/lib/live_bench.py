#!/usr/bin/env python3
"""Client side of scripts/bench-live.sh (issue 16): plain sockets, no
third-party module.

  live_bench.py latency HOST:PORT TOKEN PACK FILE EDITS
      Opens the event stream (ticket), then EDITS times: appends a comment
      to FILE, waits for the pack's run_finished with trigger watch, and
      records the time from the write to the event. Prints p50/p99/max in
      ms and checks every run revalidated only the edited file.
  live_bench.py subscribers HOST:PORT TOKEN N SECONDS
      Opens N event streams (one ticket each), waits for each one's
      `ready`, prints "open N", holds them SECONDS, closes them.
"""
import json
import socket
import sys
import time


def request(addr, method, path, token, body=b""):
    host, port = addr.split(":")
    s = socket.create_connection((host, int(port)))
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    s.sendall(head.encode() + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    _, _, payload = data.partition(b"\r\n\r\n")
    return json.loads(payload)


def ticket(addr, token):
    return request(addr, "POST", "/api/v1/events/ticket", token, b"{}")["data"]["ticket"]


class Stream:
    def __init__(self, addr, token):
        host, port = addr.split(":")
        t = ticket(addr, token)
        self.sock = socket.create_connection((host, int(port)))
        self.sock.sendall(
            f"GET /api/v1/events?ticket={t} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"stream refused: {head[:80]!r}")

    def next_event(self):
        """(name, data) of the next event; chunked framing is skipped by
        looking for the SSE lines themselves."""
        while True:
            i = self.buf.find(b"\n\n")
            if i >= 0:
                block, self.buf = self.buf[:i], self.buf[i + 2 :]
                name, data = None, None
                for line in block.split(b"\n"):
                    line = line.strip(b"\r")
                    if line.startswith(b"event:"):
                        name = line[6:].strip().decode()
                    elif line.startswith(b"data:"):
                        data = line[5:].strip()
                if name:
                    return name, json.loads(data) if data else None
                continue
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("stream closed")
            self.buf += chunk


def pct(values, p):
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def latency(addr, token, pack, path, edits):
    s = Stream(addr, token)
    name, _ = s.next_event()
    assert name == "ready", name
    with open(path, "rb") as f:
        original = f.read()
    times = []
    revalidated = set()
    for i in range(edits):
        with open(path, "wb") as f:
            f.write(original + f"\n# edit {i}\n".encode())
        t0 = time.monotonic()
        while True:
            name, data = s.next_event()
            if name == "run_finished" and data["pack_ref"] == pack and data["trigger"] == "watch":
                break
        times.append((time.monotonic() - t0) * 1000.0)
        c = data["counts"]
        revalidated.add(c["updated"] + c["created"] + c["failed"])
    with open(path, "wb") as f:
        f.write(original)
    print(
        f"edits={edits} p50_ms={pct(times, 50):.0f} p99_ms={pct(times, 99):.0f} "
        f"max_ms={max(times):.0f} revalidated_per_run={sorted(revalidated)}"
    )


def subscribers(addr, token, n, seconds):
    streams = []
    for _ in range(n):
        s = Stream(addr, token)
        name, _ = s.next_event()
        assert name == "ready", name
        streams.append(s)
    print(f"open {len(streams)}", flush=True)
    time.sleep(seconds)
    for s in streams:
        s.sock.close()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "latency":
        latency(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif mode == "subscribers":
        subscribers(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    else:
        raise SystemExit(__doc__)
