#!/usr/bin/env python3
"""The validate flood: N concurrent POST /api/v1/workflows/validate of a
~1 MiB workflow text while a prober GETs /health every 10 ms.

Prints one JSON line: statuses, validate latencies, /health p50/p99/max,
and the server's VmHWM (peak RSS) and VmRSS after the flood.

Usage: flood.py PORT TOKEN SERVER_PID [CONCURRENCY] [YAML_BYTES]
"""
import http.client
import json
import sys
import threading
import time


def big_yaml(target):
    head = 'label: "Flood"\nversion: "1.0.0"\ntasks:\n'
    parts = [head]
    size = len(head)
    i = 0
    while True:
        task = f"  - name: t{i:05d}\n    action: core.noop\n    on_success: t{i + 1:05d}\n"
        if size + len(task) + 60 > target:
            break
        parts.append(task)
        size += len(task)
        i += 1
    parts.append(f"  - name: t{i:05d}\n    action: core.noop\n")
    return "".join(parts), i + 1


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def status_of(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) // 1024
    return None


def main():
    port, token, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 128
    target = int(sys.argv[5]) if len(sys.argv) > 5 else 1_040_000
    yaml, tasks = big_yaml(target)
    body = json.dumps({"pack_ref": "flood", "name": "big", "yaml": yaml}).encode()
    results = [None] * n
    health = []
    health_errors = []
    done = threading.Event()

    def prober():
        while not done.is_set():
            t0 = time.perf_counter()
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                c.request("GET", "/health")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status != 200:
                    health_errors.append(r.status)
            except Exception as e:  # noqa: BLE001
                health_errors.append(str(e))
            health.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.01)

    start = threading.Barrier(n + 1)

    def one(i):
        start.wait()
        t0 = time.perf_counter()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            c.request("POST", "/api/v1/workflows/validate", body=body, headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            })
            r = c.getresponse()
            data = r.read()
            c.close()
            code = None
            if r.status != 200:
                try:
                    code = json.loads(data).get("code")
                except Exception:  # noqa: BLE001
                    code = "?"
            results[i] = (r.status, code, r.getheader("Retry-After"),
                          (time.perf_counter() - t0) * 1000)
        except Exception as e:  # noqa: BLE001
            results[i] = ("error", str(e)[:80], None, (time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    p = threading.Thread(target=prober)
    p.start()
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    done.set()
    p.join()
    statuses = {}
    for r in results:
        key = f"{r[0]}" + (f" {r[1]}" if r[1] else "")
        statuses[key] = statuses.get(key, 0) + 1
    ok_ms = [r[3] for r in results if r[0] == 200]
    busy_ms = [r[3] for r in results if r[0] == 503]
    fivexx_other = sum(1 for r in results
                       if isinstance(r[0], int) and r[0] >= 500 and r[1] != "BUSY")
    print(json.dumps({
        "requests": n,
        "yaml_bytes": len(yaml.encode()),
        "body_bytes": len(body),
        "tasks": tasks,
        "wall_s": round(wall, 1),
        "statuses": statuses,
        "retry_after": sorted({r[2] for r in results if r[2]}),
        "5xx_not_busy": fivexx_other,
        "validate_ms_p50_ok": round(pct(ok_ms, 50) or 0),
        "validate_ms_max_ok": round(max(ok_ms) if ok_ms else 0),
        "busy_ms_p50": round(pct(busy_ms, 50) or 0),
        "health_n": len(health),
        "health_errors": len(health_errors),
        "health_ms_p50": round(pct(health, 50), 1),
        "health_ms_p99": round(pct(health, 99), 1),
        "health_ms_max": round(max(health), 1),
        "vmhwm_mib": status_of(pid, "VmHWM"),
        "vmrss_after_mib": status_of(pid, "VmRSS"),
    }))


if __name__ == "__main__":
    main()
