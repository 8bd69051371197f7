#!/usr/bin/env python3
"""The emulator program under hostile clients, on loopback.

1. Counter memory: the emulator's RSS before and after 20,000 requests with
   unique 4 KB paths, unauthenticated and then authenticated to unknown paths.
2. Slow clients: 1,500 connections that send one byte every 10 s, and 12
   legitimate requests at once, made three times while they trickle.

Prints numbers, gates nothing. Every socket and the emulator are closed at the
end. Usage: emulator_abuse.py [--emulator PATH] [--slow N] [--seconds S]
"""
import argparse
import http.client
import json
import os
import resource
import socket
import subprocess
import threading
import time

KEY = "emulator-key"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(path, extra):
    p = subprocess.Popen([path, "--port", "0", "--no-rate-limit", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    port = int(line.rsplit(":", 1)[1].split("/")[0])
    return p, port


def requests(port, n, key, prefix):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    pad = "a" * 4000
    for i in range(n):
        hdr = {"Authorization": f"Bearer {key}"}
        c.request("GET", f"{prefix}{i}-{pad}", headers=hdr)
        c.getresponse().read()
    c.close()


def counters(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/__emulator/counters", headers={"Authorization": f"Bearer {KEY}"})
    body = json.loads(c.getresponse().read())
    c.close()
    return len(body["requests"])


def still_open(s):
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def legit(port, n=12, timeout=5.0):
    ok = []

    def one():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            c.request("GET", "/api/v2/projects/demo-project",
                      headers={"Authorization": f"Bearer {KEY}"})
            ok.append(c.getresponse().status == 200)
            c.close()
        except OSError:
            ok.append(False)

    ts = [threading.Thread(target=one) for _ in range(n)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(ok), time.monotonic() - t0


def counter_phase(path):
    p, port = start(path, [])
    try:
        time.sleep(0.2)
        base = rss_kib(p.pid)
        t0 = time.monotonic()
        requests(port, 20000, "wrong-key", "/api/v2/projects/demo-project/branches/")
        after_unauth = rss_kib(p.pid)
        requests(port, 20000, KEY, "/api/v2/nothing/")
        after_unknown = rss_kib(p.pid)
        keys = counters(port)
        print(f"counters: RSS {base / 1024:.1f} MiB at start, "
              f"+{(after_unauth - base) / 1024:.1f} MiB after 20,000 unauthenticated unique 4 KB paths, "
              f"+{(after_unknown - after_unauth) / 1024:.1f} MiB after 20,000 authenticated unknown ones; "
              f"{keys} counter keys ({time.monotonic() - t0:.1f} s)")
    finally:
        p.terminate()
        p.wait()


def slow_phase(path, n, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    n = min(n, want - 256)
    p, port = start(path, [])
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            socks.append(s)
        time.sleep(0.5)
        req = b"GET /api/v2/projects/demo-project HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
        pos = 0
        t0 = time.monotonic()
        next_byte = t0
        checks = [1.0, seconds / 2, seconds - 1]
        while time.monotonic() - t0 < seconds:
            now = time.monotonic()
            if now >= next_byte:
                alive = sum(still_open(s) for s in socks)
                for s in socks:
                    try:
                        s.send(req[pos:pos + 1])
                    except OSError:
                        pass
                pos += 1
                next_byte += 10
                print(f"  t={now - t0:4.1f}s {alive} of {n} slow connections still open, one more byte each "
                      f"(emulator RSS {rss_kib(p.pid) / 1024:.1f} MiB)")
            if checks and now - t0 >= checks[0]:
                checks.pop(0)
                ok, took = legit(port)
                print(f"  t={now - t0:4.1f}s legitimate requests answered: {ok} of 12 ({took:.2f} s)")
            time.sleep(0.1)
    finally:
        for s in socks:
            s.close()
        p.terminate()
        p.wait()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", default=os.path.join(here, "..", "build", "tools", "emulator",
                                                       "neonflow-emulator"))
    ap.add_argument("--slow", type=int, default=1500)
    ap.add_argument("--seconds", type=float, default=25)
    a = ap.parse_args()
    counter_phase(a.emulator)
    print(f"slow clients: {a.slow} connections, one byte every 10 s, for {a.seconds:.0f} s")
    slow_phase(a.emulator, a.slow, a.seconds)


if __name__ == "__main__":
    main()
