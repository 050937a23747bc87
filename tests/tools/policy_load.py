"""policy_load - load shapes for mailmaps-policyd tests, built on policy_ask.

  python3 policy_load.py latency PORT PENDING KNOWN_RCPT[,RCPT...] COUNT WAIT
      Opens PENDING connections, each sending one request for
      nobodyN@example.com (an address the maps lack) without reading; then
      sends COUNT requests for the known recipients in turn on one more
      connection, one at a time, timing each; then waits up to WAIT seconds
      for the PENDING answers. Prints one line:
      "p50_ms=.. p99_ms=.. max_ms=.. known_ok=N pending_answered=N pending_s=.."

  python3 policy_load.py hup PORT PID KNOWN_RCPT
      Sends one request for nobody@example.com (it waits on LDAP) and
      keeps its connection, sends SIGHUP to PID, then times one request
      for KNOWN_RCPT; prints "known_ms=.. pending_answered=0|1".

  python3 policy_load.py dribble PORT EVERY LIMIT
      Sends a request one byte every EVERY seconds and prints the seconds
      from the first byte until the server closed the connection, or
      "open" when it is still open after LIMIT seconds.
"""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy_ask  # noqa: E402


def latency(port, pending, known, count, wait):
    held = []
    for i in range(pending):
        s = policy_ask.connect(port, timeout=wait + 5)
        s.sendall(policy_ask.request("nobody%d@example.com" % i).encode())
        held.append(s)
    # every pending request has reached the daemon before the timing starts
    time.sleep(0.3)
    k = policy_ask.connect(port, timeout=wait + 5)
    lat, ok = [], 0
    for i in range(count):
        t0 = time.perf_counter()
        k.sendall(policy_ask.request(known[i % len(known)]).encode())
        try:
            ans = policy_ask.read_answer(k)
        except OSError:
            # no answer within the timeout: counts as infinitely late
            lat.extend([float("inf")] * (count - i))
            break
        lat.append(time.perf_counter() - t0)
        ok += ans.startswith("action=")
    lat.sort()
    t0 = time.monotonic()
    answered = 0
    for s in held:
        left = wait - (time.monotonic() - t0)
        if left <= 0:
            break
        s.settimeout(left)
        try:
            answered += policy_ask.read_answer(s).startswith("action=")
        except OSError:
            pass
    spent = time.monotonic() - t0
    for s in held:
        s.close()

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000

    print("p50_ms=%.2f p99_ms=%.2f max_ms=%.2f known_ok=%d pending_answered=%d pending_s=%.1f"
          % (pct(0.50), pct(0.99), lat[-1] * 1000, ok, answered, spent))


def hup(port, pid, known):
    held = policy_ask.connect(port, timeout=30)
    held.sendall(policy_ask.request("nobody@example.com").encode())
    time.sleep(0.3)
    os.kill(pid, signal.SIGHUP)
    time.sleep(0.2)
    k = policy_ask.connect(port, timeout=30)
    t0 = time.perf_counter()
    k.sendall(policy_ask.request(known).encode())
    ok = policy_ask.read_answer(k).startswith("action=")
    ms = (time.perf_counter() - t0) * 1000
    answered = policy_ask.read_answer(held).startswith("action=")
    print("known_ms=%.1f known_ok=%d pending_answered=%d" % (ms, ok, answered))


def dribble(port, every, limit):
    s = policy_ask.connect(port, timeout=limit + 5)
    data = policy_ask.request("alice@example.com").encode()
    t0 = time.monotonic()
    for b in data[:-1]:   # never complete: the blank line stays unsent
        try:
            s.sendall(bytes([b]))
        except OSError:
            break
        s.settimeout(every)
        try:
            if s.recv(1) == b"":
                break
        except socket.timeout:
            pass
        except OSError:
            break
        if time.monotonic() - t0 > limit:
            print("open")
            return
    print("%.1f" % (time.monotonic() - t0))


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "latency" and len(a) == 6:
        latency(a[1], int(a[2]), a[3].split(","), int(a[4]), float(a[5]))
    elif a and a[0] == "hup" and len(a) == 4:
        hup(a[1], int(a[2]), a[3])
    elif a and a[0] == "dribble" and len(a) == 4:
        dribble(a[1], float(a[2]), float(a[3]))
    else:
        sys.exit(__doc__)
