"""A scripted pupil that takes the survey like a browser, for the load and crash benchmarks.

It knows no URLs beyond ``/start``: it follows redirects, the "Start" button link and the
action and hidden fields of each page's form, as a browser without JavaScript would, so it
keeps working when the survey's pages change. Answers are chosen at random from the
radios, checkboxes and selects on each page (some questions skipped, as pupils do).

Shared by ``bench/load_pupils.py`` and ``bench/crash_pupils.py``. Standard library only
(http.client, html.parser), talking to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: A pupil never needs more requests than this; more means the flow is looping.
MAX_STEPS = 200
_RID = re.compile(r"^/s/([0-9a-f-]{36})/")


class Transient(Exception):
    """The server could not be reached or answered 502/503/504: try again."""


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    radios: dict[str, list[str]] = field(default_factory=dict)
    checkboxes: dict[str, list[str]] = field(default_factory=dict)
    selects: dict[str, list[str]] = field(default_factory=dict)
    textareas: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    id: str = ""


class PageParser(HTMLParser):
    """Forms (with their fields) and "button" links of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(
                a.get("action", ""), a.get("method", "get").lower(), id=a.get("id", "")
            )
            self.forms.append(self._form)
        elif tag == "a" and "button" in a.get("class", "").split() and a.get("href"):
            self.links.append(a["href"])
        form = self._form
        if form is None:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "hidden":
                form.fields.append((name, a.get("value", "")))
            elif kind == "radio":
                form.radios.setdefault(name, []).append(a.get("value", "on"))
            elif kind == "checkbox":
                form.checkboxes.setdefault(name, []).append(a.get("value", "on"))
            elif kind == "submit":
                form.buttons.append((name, a.get("value", "")))
        elif tag == "button" and a.get("type", "submit") == "submit" and "form" not in a:
            form.buttons.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = name
            form.selects[name] = []
        elif tag == "option" and self._select and a.get("value"):
            form.selects[self._select].append(a["value"])
        elif tag == "textarea" and name:
            form.textareas.append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def answer(form: Form, rng: random.Random, *, skip_all: bool = False) -> list[tuple[str, str]]:
    """The form's fields with random answers (or hidden fields only)."""
    data = list(form.fields)
    if not skip_all:
        for name, values in form.radios.items():
            if name == "lang":  # the language page: stay in English
                data.append((name, "en" if "en" in values else values[0]))
            elif rng.random() < 0.9:
                data.append((name, rng.choice(values)))
        for name, values in form.checkboxes.items():
            data.extend((name, v) for v in rng.sample(values, rng.randint(0, min(2, len(values)))))
        for name, values in form.selects.items():
            if values and rng.random() < 0.9:
                data.append((name, rng.choice(values)))
        texts = ["more clubs after school", "a safer park"]
        data.extend((n, rng.choice(texts)) for n in form.textareas if rng.random() < 0.3)
    button = next(((n, v) for n, v in form.buttons if n and n != "lang"), None)
    if button:
        data.append(button)
    return data


def survey_form(forms: list[Form]) -> Form | None:
    """The page's own form: a POST form that is not the language switch or sign-out."""
    for form in forms:
        if form.method != "post":
            continue
        if form.action.endswith("/logout") or form.id == "lang-form":
            continue
        return form
    return None


@dataclass
class Outcome:
    """What happened to one pupil."""

    rid: str = ""
    acknowledged: bool = False
    requests: int = 0
    retries: int = 0
    latencies: list[float] = field(default_factory=list)
    error: str = ""


class Browser:
    """Cookies, keep-alive and redirects over http.client; retries transient failures."""

    def __init__(self, port: int, *, retry: bool, timeout: float = 60.0) -> None:
        self.port = port
        self.retry = retry
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _once(self, method: str, path: str, body: str) -> tuple[int, str, bytes]:
        headers = {"User-Agent": "placevoice-bench-pupil", "Accept": "text/html"}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = self._connection()
        try:
            conn.request(method, path, body=body or None, headers=headers)
            reply = conn.getresponse()
            data = reply.read()
        except (OSError, http.client.HTTPException) as err:
            self.close()
            raise Transient(f"{type(err).__name__}: {err}") from err
        for header, value in reply.getheaders():
            if header.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                name, _, val = pair.partition("=")
                if "max-age=0" in value.lower() or "expires=thu, 01 jan 1970" in value.lower():
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = val
        if reply.getheader("Connection", "").lower() == "close":
            self.close()
        if reply.status in (502, 503, 504):
            raise Transient(f"HTTP {reply.status}")
        return reply.status, reply.getheader("Location", ""), data

    def request(
        self, method: str, path: str, body: str, outcome: Outcome, deadline: float
    ) -> tuple[int, str, bytes]:
        delay = 0.05
        while True:
            started = time.perf_counter()
            try:
                status, location, data = self._once(method, path, body)
            except Transient as err:
                if not self.retry or time.time() > deadline:
                    raise
                outcome.retries += 1
                time.sleep(delay)
                delay = min(1.0, delay * 2)
                _ = err
                continue
            outcome.requests += 1
            outcome.latencies.append(time.perf_counter() - started)
            return status, location, data


def take_survey(
    port: int, code: str, seed: int, *, retry: bool = False, budget_s: float = 600.0
) -> Outcome:
    """One pupil: enter the class code, answer every page, check, submit."""
    rng = random.Random(seed)
    outcome = Outcome()
    browser = Browser(port, retry=retry)
    deadline = time.time() + budget_s
    try:
        status, location, page = browser.request("GET", "/start", "", outcome, deadline)
        url = "/start"
        method, body = "POST", ""
        parser = PageParser()
        parser.feed(page.decode("utf-8", "replace"))
        form = survey_form(parser.forms)
        if form is None:
            raise RuntimeError("no form on /start")
        fields = [*form.fields, ("code", code)]
        method, url, body = "POST", urljoin("/start", form.action or "/start"), urlencode(fields)
        repeated_200 = 0
        for _step in range(MAX_STEPS):
            status, location, page = browser.request(method, url, body, outcome, deadline)
            match = _RID.match(urlsplit(location or url).path)
            if match:
                outcome.rid = match.group(1)
            if url.endswith("/submit") and status in (302, 303) and "/done" in location:
                outcome.acknowledged = True
                return outcome
            if status in (301, 302, 303):
                method, body, url = "GET", "", urljoin(url, location)
                continue
            if status != 200:
                raise RuntimeError(f"{method} {urlsplit(url).path} -> HTTP {status}")
            if urlsplit(url).path.startswith("/done"):
                outcome.acknowledged = outcome.acknowledged or bool(outcome.rid)
                return outcome
            parser = PageParser()
            parser.feed(page.decode("utf-8", "replace"))
            form = survey_form(parser.forms)
            if method == "POST":
                repeated_200 += 1  # the page came back (a validation message): skip it all
                if repeated_200 > 3:
                    raise RuntimeError(f"POST {urlsplit(url).path} keeps coming back")
            else:
                repeated_200 = 0
            if form is not None:
                data = answer(form, rng, skip_all=repeated_200 > 0)
                method, body = "POST", urlencode(data)
                url = urljoin(url, form.action) if form.action else url
            elif parser.links:
                method, body, url = "GET", "", urljoin(url, parser.links[-1])
            else:
                raise RuntimeError(f"dead end at {urlsplit(url).path}")
        raise RuntimeError("too many steps")
    except (Transient, RuntimeError) as err:
        outcome.error = str(err)[:200]
        return outcome
    finally:
        browser.close()


# --- the server under test -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db_url: str, port: int, *, workers: int, threads: int) -> subprocess.Popen[bytes]:
    """``placevoice serve`` (gunicorn) in its own process group; waits until it answers."""
    env = {
        **os.environ,
        "PLACEVOICE_SECRET_KEY": "bench-" + "s" * 48,
        "PLACEVOICE_SESSION_COOKIE_SECURE": "false",
    }
    command = [
        sys.executable, "-m", "webapp.cli", "serve", "--db", db_url, "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--threads", str(threads),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.1)
    kill_server(process)
    raise RuntimeError(f"the server did not start on port {port}")


def kill_server(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the server's own process group (gunicorn master and workers)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def set_up(db_url: str, *, schools: int, classes: int, pupils_per_class: int) -> list[str]:
    """A fresh community with an open pupil wave; returns one class code per class."""
    from surveys.db import make_engine, make_sessionmaker, migrate
    from surveys.models import SchoolClass, Site
    from surveys.services import (
        create_wave,
        ensure_builtin_instruments,
        get_or_create_community,
        issue_code,
        latest_instrument_version,
        set_wave_status,
    )

    engine = make_engine(db_url)
    migrate(engine)
    session = make_sessionmaker(engine)()
    community = get_or_create_community(session, slug="bench", name="Bench community")
    ensure_builtin_instruments(session)
    wave = create_wave(
        session, community=community, name="Bench", instrument_ids=["pupil_perception"]
    )
    set_wave_status(wave, "open")
    version = latest_instrument_version(session, "pupil_perception")
    codes = []
    sites = [
        Site(community=community, code=f"S{n + 1:02d}", name=f"School {n + 1}", kind="school")
        for n in range(schools)
    ]
    session.add_all(sites)
    for n in range(classes):
        site = sites[n % schools]
        cls = SchoolClass(
            site=site, name=f"C{n + 1:02d}", year_group=5 + n % 7, size=pupils_per_class
        )
        session.add(cls)
        session.flush()
        code = issue_code(
            session, wave=wave, version=version, kind="class", site=site, school_class=cls
        )
        codes.append(code.code)
    session.commit()
    session.close()
    engine.dispose()
    return codes


def stored_ids(db_url: str) -> tuple[set[str], int]:
    """(ids of submitted responses, number of submitted rows) in the database."""
    from sqlalchemy import select

    from surveys.db import make_engine
    from surveys.models import Response

    engine = make_engine(db_url)
    with engine.connect() as conn:
        ids = [
            r[0] for r in conn.execute(select(Response.id).where(Response.status == "submitted"))
        ]
    engine.dispose()
    return set(ids), len(ids)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
