"""`placevoice serve` runs the app under gunicorn (a production server)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_the_landing_page_with_gunicorn(db_url: str, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init", "--community", "Wallsend Children's Community").exit_code == 0
    port = _free_port()
    env = {**os.environ, "PLACEVOICE_DATABASE_URL": db_url, "PLACEVOICE_SECRET_KEY": "s" * 48}
    server = subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        body = b""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    assert reply.status == 200
                    assert "gunicorn" in reply.headers.get("Server", "")
                    body = reply.read()
                    break
            except OSError:
                time.sleep(0.1)
        assert b"Wallsend Children" in body
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    assert b"serving on http://127.0.0.1" in out
    assert b"Traceback" not in err
