#!/usr/bin/env python3
"""Memory held by idle authenticated IMAP sessions of `mailscope serve` (BENCHMARKS.md).

Starts `mailscope serve`, obtains an Exchange IMAP token with `mailscope token`, opens N IMAPS
connections that each authenticate with XOAUTH2 (SASL-IR) and then stay idle, and reports the
serve process's resident memory before and after, from /proc/PID/status. Linux only.

    python3 mocks/benches/idle_sessions.py [--sessions 1000] [--binary target/debug/mailscope]
"""

import argparse
import base64
import json
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def read_line(tls: ssl.SSLSocket) -> bytes:
    line = b""
    while not line.endswith(b"\r\n"):
        chunk = tls.recv(1)
        if not chunk:
            raise RuntimeError(f"closed after {line!r}")
        line += chunk
    return line


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--binary", default="target/debug/mailscope")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as state:
        serve = subprocess.Popen(
            [args.binary, "serve", "--state-dir", state], stdout=subprocess.DEVNULL
        )
        try:
            endpoints_file = Path(state) / "endpoints.json"
            for _ in range(200):
                if endpoints_file.exists():
                    break
                time.sleep(0.05)
            endpoints = json.loads(endpoints_file.read_text())
            token = subprocess.run(
                [args.binary, "token", "--state-dir", state, "--scope",
                 "https://outlook.office.com/IMAP.AccessAsUser.All"],
                check=True, capture_output=True, text=True,
            ).stdout.strip()
            user = endpoints["users"][0]["upn"]
            sasl = base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()
            host, port = endpoints["imap"].rsplit(":", 1)
            context = ssl.create_default_context(cafile=endpoints["ca_file"])

            time.sleep(0.5)
            before = rss_kib(serve.pid)
            sessions = []
            started = time.monotonic()
            for _ in range(args.sessions):
                raw = socket.create_connection((host, int(port)))
                tls = context.wrap_socket(raw, server_hostname="localhost")
                read_line(tls)  # greeting
                tls.sendall(f"a1 AUTHENTICATE XOAUTH2 {sasl}\r\n".encode())
                reply = read_line(tls)
                if not reply.startswith(b"a1 OK"):
                    raise RuntimeError(f"not authenticated: {reply!r}")
                sessions.append(tls)
            opened = time.monotonic() - started
            time.sleep(1.0)
            after = rss_kib(serve.pid)
            per_session = (after - before) / args.sessions
            print(f"sessions: {args.sessions} authenticated and idle, opened in {opened:.1f} s")
            print(f"serve RSS: {before} KiB before, {after} KiB after: {per_session:.1f} KiB a session")
            for tls in sessions:
                tls.close()
        finally:
            serve.terminate()
            serve.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
