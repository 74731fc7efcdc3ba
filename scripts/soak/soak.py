#!/usr/bin/env python3
"""`make soak`: the portal under load, faults and hostile input (issue 18), judged.

Run by scripts/soak.sh inside scripts/with-postgres.sh (a throwaway PostgreSQL cluster this
script may stop and start), with Locust from .tools/locust-venv. Phases, each on a fresh
database seeded with the demo data, each ending in pass or fail:

  load-sqlite, load-postgres  SOAK_USERS (200) signed-in users (password, TOTP, SSO through
                              the development Entra ID emulator) and SOAK_INGEST (2) ingest
                              clients for SOAK_SECONDS (60) after the last sign-in
  pg-outage                   PostgreSQL stopped for 10 s under a quarter of the load
  soak                        half the load for SOAK_MINUTES (10) on PostgreSQL: RSS, open
                              file descriptors and database connections sampled
  sigterm-sqlite, -postgres   SIGTERM during a 1,000,000-row POST /api/v1/ingest/calls and
                              during `portal calls import`, then the same file again
  disk-full                   the outage integration test on a real 12 MB tmpfs (root only)
  fuzz                        Schemathesis for SOAK_FUZZ_SECS (60) per run, both databases

  soak.py [PHASE ...]         only those phases (default: all)

Traffic goes to 127.0.0.1 only and every loop is bounded in count and time. Prints a
pass/fail table and writes target/soak/REPORT.md and target/soak/results.json; exits 1 when
anything failed.
"""

import concurrent.futures
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import cdrs  # beside this file
from rfc6238 import totp_code

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PERF_BIN = os.environ.get("SOAK_BIN") or os.path.join(ROOT, "target", "perf", "portal")
DEBUG_BIN = os.path.join(ROOT, "target", "debug", "portal")
LOCUST = os.path.join(ROOT, ".tools", "locust-venv", "bin", "locust")
LOCUSTFILE = os.path.join(ROOT, "scripts", "soak", "locustfile.py")
OUT_DIR = os.path.join(ROOT, "target", "soak")
PASSWORD = "violet tugboat orbit sandwich"
CONTOSO_TENANT = "6f1c4a9e-3b52-4c1d-9a57-2e8f0b7d4c11"

USERS = int(os.environ.get("SOAK_USERS", "200"))
INGEST_CLIENTS = int(os.environ.get("SOAK_INGEST", "2"))
SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
MINUTES = float(os.environ.get("SOAK_MINUTES", "10"))
FUZZ_SECS = int(os.environ.get("SOAK_FUZZ_SECS", "60"))
UPLOAD_ROWS = int(os.environ.get("SOAK_UPLOAD_ROWS", "1000000"))
API_P99_AIM_MS = 250
DRAIN_SECS = 25  # http::DRAIN_TIMEOUT
IMPORT_BATCH = 50_000  # ImportOptions::default().batch_rows

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- databases -------------------------------------------------------------------------------

class Database:
    """A fresh database: a SQLite file or a PostgreSQL database in the throwaway cluster."""

    def __init__(self, backend, work):
        self.backend = backend
        if backend == "sqlite":
            self.path = os.path.join(work, f"portal-{uuid.uuid4().hex[:8]}.db")
            self.url = f"sqlite://{self.path}?mode=rwc"
        else:
            name = f"soak_{uuid.uuid4().hex[:12]}"
            psql(PG_URL, f"CREATE DATABASE {name}")
            self.url = PG_URL.rsplit("/", 1)[0] + "/" + name

    def scalar(self, sql):
        if self.backend == "sqlite":
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
            try:
                return con.execute(sql).fetchone()[0]
            finally:
                con.close()
        return int(psql(self.url, sql).strip())

    def connections(self):
        """Client connections to this database (PostgreSQL), or None."""
        if self.backend != "postgres":
            return None
        name = self.url.rsplit("/", 1)[1]
        return int(psql(PG_URL, f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' "
                                "AND backend_type = 'client backend'").strip())


def psql(url, sql):
    return subprocess.run(["psql", "-qtAX", url, "-c", sql], check=True, capture_output=True, text=True).stdout


def pg_ctl(action):
    cmd = [os.path.join(os.environ["PORTAL_TEST_PG_BIN"], "pg_ctl"), "-D", os.environ["PORTAL_TEST_PG_DATA"], "-w"]
    if action == "stop":
        cmd += ["-m", "fast", "stop"]
    else:
        cmd += ["-l", os.environ["PORTAL_TEST_PG_DATA"] + "/../restart.log", "-o", os.environ["PORTAL_TEST_PG_OPTIONS"], "start"]
    if os.environ.get("PORTAL_TEST_PG_USER"):
        cmd = ["runuser", "-u", os.environ["PORTAL_TEST_PG_USER"], "--"] + cmd
    subprocess.run(cmd, check=True, capture_output=True)


# -- the portal ------------------------------------------------------------------------------

class Portal:
    def __init__(self, db, work, binary=PERF_BIN):
        self.db = db
        self.work = work
        self.binary = binary
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        os.makedirs(os.path.join(work, "site"), exist_ok=True)
        self.env = dict(os.environ, DATABASE_URL=db.url, PORTAL_DATA_DIR=os.path.join(work, "data"),
                        LEPTOS_SITE_ADDR=f"127.0.0.1:{self.port}", PORTAL_PUBLIC_URL=self.base,
                        LEPTOS_SITE_ROOT=os.path.join(work, "site"), RUST_LOG="warn")
        self.proc = None
        self.log_path = os.path.join(work, f"server-{self.port}.log")

    def cli(self, *args, stdin=None, check=True):
        return subprocess.run([self.binary, *args], env=self.env, input=stdin, capture_output=True,
                              text=True, check=check)

    def start(self):
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=open(self.log_path, "a"),
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/readyz", timeout=2)
                return self
            except Exception:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"the portal did not start: {open(self.log_path).read()[-2000:]}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(DRAIN_SECS + 10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def panicked(self):
        return "panicked" in open(self.log_path).read()

    def rss_kb(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))


def http(base, method, path, body=None, cookie=None, token=None, timeout=30):
    headers = {"Origin": base}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if cookie:
        headers["Cookie"] = "__Host-portal_session=" + cookie
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data, headers, method=method)
    try:
        res = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        res = e
    fresh = [h.split(";")[0].split("=", 1)[1] for h in res.headers.get_all("Set-Cookie") or []
             if h.startswith("__Host-portal_session=") and "Max-Age=0" not in h]
    raw = res.read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    return res.status, payload, (fresh[0] if fresh else cookie)


# -- preparing a run -------------------------------------------------------------------------

def prepare(portal, run):
    """Demo data, USERS accounts, ingest tokens and each organisation's own data, read
    before the load one request at a time: the plan the locustfile works from."""
    portal.cli("migrate")
    portal.cli("seed-demo")
    counts = {"password": USERS * 2 // 5, "totp": USERS * 3 // 10}
    counts["sso"] = USERS - counts["password"] - counts["totp"]
    counts["ingest"] = INGEST_CLIENTS
    orgs = ["contoso", "fabrikam"]
    roles = ["engineer", "engineer", "engineer", "viewer", "admin"]
    accounts = {"password": [], "totp": [], "sso": []}
    for kind in ("password", "totp"):
        for i in range(counts[kind]):
            org = orgs[i % 2]
            accounts[kind].append({"email": f"soak-{kind}-{i:03d}-{run}@{org}.example", "org": org,
                                   "role": roles[i % len(roles)]})
    for i in range(counts["sso"]):
        accounts["sso"].append({"email": f"soak-sso-{i:03d}-{run}@contoso.example", "name": f"Soak SSO {i}",
                                "org": "contoso", "role": "viewer"})

    def create(a):
        portal.cli("user", "create", "--org", a["org"], "--email", a["email"], "--role", a["role"],
                   "--password-stdin", stdin=PASSWORD + "\n")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(create, accounts["password"] + accounts["totp"]))
    portal.start()

    def enrol(a):
        _, _, cookie = http(portal.base, "POST", "/api/v1/auth/login", {"email": a["email"], "password": PASSWORD})
        status, enrolment, cookie = http(portal.base, "POST", "/api/v1/me/mfa/totp", {"password": PASSWORD}, cookie)
        assert status == 200, (status, enrolment)
        a["secret"] = enrolment["secret"]
        status, body, _ = http(portal.base, "POST", "/api/v1/me/mfa/totp/confirm",
                               {"code": totp_code(a["secret"], int(time.time()) // 30)}, cookie)
        assert status == 200, (status, body)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(enrol, accounts["totp"]))

    plan_orgs = {}
    for org in orgs:
        status, body, admin = http(portal.base, "POST", "/api/v1/auth/login",
                                   {"email": f"admin@{org}.example", "password": PASSWORD})
        assert status == 200 and body["status"] == "signed_in", (status, body)
        _, me, _ = http(portal.base, "GET", "/api/v1/me", cookie=admin)
        _, services, _ = http(portal.base, "GET", "/api/v1/services", cookie=admin)
        numbers, cursor = [], None
        for _ in range(100):
            _, page, _ = http(portal.base, "GET", "/api/v1/numbers?limit=200" + (f"&cursor={cursor}" if cursor else ""),
                              cookie=admin)
            numbers += [n["e164"] for n in page["numbers"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        _, addresses, _ = http(portal.base, "GET", "/api/v1/emergency-addresses", cookie=admin)
        status, token, _ = http(portal.base, "POST", "/api/v1/api-tokens",
                                {"name": f"soak ingest {run}", "scope": "ingest", "expires_in_days": 1}, admin)
        assert status in (200, 201), (status, token)
        plan_orgs[org] = {"name": me["organisation"]["name"],
                          "services": {s["id"]: s["name"] for s in services["services"]},
                          "numbers": numbers, "addresses": [a["id"] for a in addresses["addresses"]],
                          "ingest_token": token["secret"]}
    # Organisations must not share a service name: the calls export names services.
    names = [n for o in plan_orgs.values() for n in o["services"].values()]
    assert len(names) == len(set(names)), "two organisations share a service name"
    return {"base": portal.base, "password": PASSWORD, "run": run, "accounts": accounts,
            "orgs": plan_orgs, "counts": counts}


def scale(plan, fraction):
    """The same accounts, a fraction of them."""
    p = json.loads(json.dumps(plan))
    for kind in ("password", "totp", "sso"):
        p["counts"][kind] = max(1, int(plan["counts"][kind] * fraction))
    return p


def run_locust(plan, work, label, seconds, on_ready=None):
    """Runs the plan's users until `seconds` after the last one signed in; returns the
    locustfile's results and the moment the last user signed in."""
    plan_path = os.path.join(work, f"plan-{label}.json")
    out_path = os.path.join(work, f"out-{label}.json")
    json.dump(plan, open(plan_path, "w"))
    total = sum(plan["counts"].values())
    env = dict(os.environ, SOAK_PLAN=plan_path, SOAK_OUT=out_path, SOAK_RUN_SECONDS=str(seconds))
    # The run ends `seconds` after the last sign-in (the locustfile stops it); -t bounds it.
    limit = seconds + 240
    cmd = [LOCUST, "-f", LOCUSTFILE, "--headless", "-u", str(total), "-r", "25", "-t", f"{limit}s",
           "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    log(f"locust: {total} users ({label}), {seconds} s after the last sign-in")
    with open(os.path.join(work, f"locust-{label}.log"), "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work)
        ready_file = out_path + ".ready"
        if on_ready:
            deadline = time.time() + limit
            while not os.path.exists(ready_file) and proc.poll() is None and time.time() < deadline:
                time.sleep(0.2)
            if os.path.exists(ready_file):
                on_ready(float(open(ready_file).read()))
        proc.wait(limit + 60)
    if not os.path.exists(out_path):
        raise RuntimeError(f"locust wrote no results: {open(os.path.join(work, f'locust-{label}.log')).read()[-3000:]}")
    return json.load(open(out_path))


# -- judging ---------------------------------------------------------------------------------

def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def latency_table(records, start, end):
    """Per request type: count, req/s, p50/p95/p99 (ms), errors; records started in the window."""
    window = [r for r in records if start <= r[0] <= end]
    duration = max(end - start, 1e-9)
    by_name = {}
    for r in window:
        by_name.setdefault(r[1], []).append(r)
    rows = []
    for name in sorted(by_name):
        rs = by_name[name]
        ms = [r[3] for r in rs]
        rows.append({"name": name, "count": len(rs), "rps": len(rs) / duration, "p50": pct(ms, 50),
                     "p95": pct(ms, 95), "p99": pct(ms, 99), "max": max(ms),
                     "errors": sum(1 for r in rs if r[2] == 0 or r[2] >= 500)})
    api = [r[3] for r in window if r[1].startswith("api ")]
    summary = {"requests": len(window), "rps": len(window) / duration, "api_reads": len(api),
               "api_p50": pct(api, 50), "api_p95": pct(api, 95), "api_p99": pct(api, 99),
               "status_5xx": sum(1 for r in window if r[2] >= 500),
               "connection_errors": sum(1 for r in window if r[2] == 0)}
    return rows, summary


class Verdicts:
    def __init__(self):
        self.rows = []

    def check(self, phase, what, ok, detail):
        self.rows.append({"phase": phase, "check": what, "ok": bool(ok), "detail": detail})
        log(("PASS" if ok else "FAIL"), phase, "-", what, "-", detail)

    def aim(self, phase, what, met, detail):
        self.rows.append({"phase": phase, "check": what, "ok": True, "aim": bool(met), "detail": detail})
        log(("AIM MET" if met else "AIM MISSED"), phase, "-", what, "-", detail)


def judge_load(v, phase, result, db, run, portal, seconds):
    all_at = result["signed_in"]["all_at"]
    v.check(phase, "every user signed in", all_at is not None,
            f"{result['signed_in']['count']} of {result['expected_users']} signed in")
    records = result["records"]
    start = all_at or (min(r[0] for r in records) if records else 0)
    rows, summary = latency_table(records, start, start + seconds)
    problems = result["problems"]
    identity = problems.get("wrong_identity", 0) + problems.get("foreign_org", 0)
    v.check(phase, "zero wrong-identity or foreign-organisation answers", identity == 0,
            f"{problems.get('wrong_identity', 0)} wrong identity, {problems.get('foreign_org', 0)} foreign")
    errors = {k: n for k, n in problems.items() if k not in ("wrong_identity", "foreign_org")}
    v.check(phase, "zero 5xx, zero unexpected answers", not errors,
            ", ".join(f"{n} {k}" for k, n in errors.items()) or f"{len(records)} answers checked")
    stored = db.scalar(f"SELECT COUNT(*) FROM calls WHERE id LIKE 'soak-{run}-%'")
    distinct = db.scalar(f"SELECT COUNT(DISTINCT id) FROM calls WHERE id LIKE 'soak-{run}-%'")
    acknowledged = sum(result["ingest"]["acknowledged"].values())
    v.check(phase, "every ingested row stored exactly once",
            stored == distinct == acknowledged and result["ingest"]["stored"] <= acknowledged,
            f"{acknowledged} rows acknowledged in {result['ingest']['batches']} batches "
            f"({result['ingest']['retries']} retries), {stored} stored, {distinct} distinct ids")
    v.check(phase, "no panic in the portal's log", not portal.panicked(), "none")
    v.aim(phase, f"API reads p99 under {API_P99_AIM_MS} ms",
          summary["api_p99"] is not None and summary["api_p99"] < API_P99_AIM_MS,
          f"p50 {summary['api_p50']} ms, p95 {summary['api_p95']} ms, p99 {summary['api_p99']} ms over "
          f"{summary['api_reads']} API reads; {summary['rps']:.0f} requests/s in all")
    signing_in = [r for r in records if r[1].startswith("sign-in")]
    sign_rows = latency_table(signing_in, 0, float("inf"))[0] if signing_in else []
    return {"rows": rows, "summary": summary, "sign_in_rows": sign_rows, "examples": result["examples"]}


# -- phases ----------------------------------------------------------------------------------

def phase_load(v, backend, work, report):
    phase = f"load-{backend}"
    db, portal, run, plan = prepared(backend, work)
    try:
        result = run_locust(plan, work, phase, SECONDS)
        report[phase] = judge_load(v, phase, result, db, run, portal, SECONDS)
        report[phase]["users"] = plan["counts"]
    finally:
        portal.stop()


def prepared(backend, work, fraction=1.0):
    """A fresh database, its portal serving, and the run's plan with `fraction` of the users."""
    db = Database(backend, work)
    portal = Portal(db, work)
    run = uuid.uuid4().hex[:6]
    try:
        plan = prepare(portal, run)
    except BaseException:
        portal.stop()
        raise
    return db, portal, run, (plan if fraction == 1.0 else scale(plan, fraction))


def phase_pg_outage(v, work, report):
    phase = "pg-outage"
    db, portal, run, plan = prepared("postgres", work, 0.25)
    events = {}
    probes = []

    def readyz_probe(stop):
        while not stop.is_set():
            t = time.time()
            try:
                status = urllib.request.urlopen(portal.base + "/readyz", timeout=10).status
            except urllib.error.HTTPError as e:
                status = e.code
            except Exception:
                status = 0
            probes.append((t, status, (time.time() - t) * 1000))
            time.sleep(0.25)

    def outage(all_at):
        time.sleep(10)
        events["stopping"] = time.time()
        pg_ctl("stop")
        events["down"] = time.time()
        log("PostgreSQL stopped")
        time.sleep(10)
        events["starting"] = time.time()
        pg_ctl("start")
        events["up"] = time.time()
        log("PostgreSQL started again")

    stop = threading.Event()
    prober = threading.Thread(target=readyz_probe, args=(stop,), daemon=True)
    prober.start()
    try:
        result = run_locust(plan, work, phase, 45, on_ready=outage)
    finally:
        stop.set()
        prober.join()
        if "up" not in events and "down" in events:
            pg_ctl("start")
    try:
        if "up" not in events:
            v.check(phase, "the outage happened", False, "the users never all signed in")
            return
        records = result["records"]
        down, up = events["down"], events["up"]
        during = [r for r in records if down <= r[0] and r[0] + r[3] / 1000 <= events["starting"]]
        bad = [r for r in during if not (200 <= r[2] < 300 or (r[2] == 503 and r[4] and (r[5] or r[1].startswith("page "))))]
        slow = [r for r in during if r[3] > 2000]
        v.check(phase, "during the outage: 503 with Retry-After and the error shape (or a cached 2xx)",
                not bad and during, f"{len(during)} answers, {sum(1 for r in during if r[2] == 503)} were 503; "
                f"{len(bad)} otherwise" + (f", e.g. {bad[0][1]} {bad[0][2]}" if bad else ""))
        worst = max((r[3] for r in during), default=0)
        v.check(phase, "during the outage: every answer within 2 s", not slow,
                f"slowest {worst:.0f} ms; {len(slow)} over 2 s")
        ready_down = [p for p in probes if down + 1 <= p[0] and p[0] + p[2] / 1000 <= events["starting"]]
        v.check(phase, "/readyz answers 503 while PostgreSQL is down",
                ready_down and all(p[1] == 503 for p in ready_down),
                f"{len(ready_down)} probes: {sorted(set(p[1] for p in ready_down))}")
        after = [r for r in records if r[0] >= up + 5]
        failed_after = [r for r in after if r[2] == 0 or r[2] >= 500]
        first_ok = min((r[0] for r in records if r[0] >= up and 200 <= r[2] < 300 and r[1].startswith("api ")), default=None)
        v.check(phase, "within 5 s of the restart everything answers again, no portal restart",
                after and not failed_after,
                f"first API success {((first_ok - up) if first_ok else float('nan')):.2f} s after the restart; "
                f"{len(after)} answers after 5 s, {len(failed_after)} failed")
        ready_after = [p for p in probes if p[0] >= up + 5]
        v.check(phase, "/readyz answers 200 again", ready_after and all(p[1] == 200 for p in ready_after),
                f"{len(ready_after)} probes after 5 s")
        problems = result["problems"]
        identity = problems.get("wrong_identity", 0) + problems.get("foreign_org", 0)
        others = {k: n for k, n in problems.items() if k not in ("wrong_identity", "foreign_org", "server_error_503")}
        v.check(phase, "zero wrong-identity answers, no error but 503", not identity and not others,
                ", ".join(f"{n} {k}" for k, n in {**others, "identity": identity}.items()))
        stored = db.scalar(f"SELECT COUNT(*) FROM calls WHERE id LIKE 'soak-{run}-%'")
        acknowledged = sum(result["ingest"]["acknowledged"].values())
        v.check(phase, "the retrying ingest client's rows are stored exactly once", stored == acknowledged,
                f"{acknowledged} acknowledged after {result['ingest']['retries']} retries, {stored} stored")
        v.check(phase, "no panic in the portal's log", not portal.panicked(), "none")
        report[phase] = {"probes": [(round(p[0] - down, 2), p[1], round(p[2])) for p in probes],
                         "down_s": round(up - down, 1), "answers_during": len(during), "slowest_ms": worst,
                         "first_success_after_s": (first_ok - up) if first_ok else None}
    finally:
        portal.stop()


def phase_soak(v, work, report):
    phase = "soak"
    db, portal, run, plan = prepared("postgres", work, 0.5)
    seconds = int(MINUTES * 60)
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append((time.time(), portal.rss_kb(), portal.fds(), db.connections()))
            except Exception:
                pass
            stop.wait(10)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = run_locust(plan, work, phase, seconds)
    finally:
        stop.set()
        sampler.join()
    try:
        all_at = result["signed_in"]["all_at"] or samples[0][0]
        steady = [s for s in samples if s[0] >= all_at]
        minute1 = [s for s in steady if all_at + 50 <= s[0] <= all_at + 70]
        last = [s for s in steady if s[0] >= all_at + seconds - 60]
        if not minute1 or not last:
            v.check(phase, "samples taken", False, f"{len(samples)} samples")
            return
        rss1, rss_end = minute1[0][1], last[-1][1]
        v.check(phase, "RSS at the end within 15% of its value after the first minute",
                rss_end <= rss1 * 1.15, f"{rss1 / 1024:.1f} MiB after 1 min, {rss_end / 1024:.1f} MiB at the end "
                f"({(rss_end / rss1 - 1) * 100:+.1f}%), peak {max(s[1] for s in steady) / 1024:.1f} MiB")
        fd1, fd_end = max(s[2] for s in minute1), max(s[2] for s in last)
        v.check(phase, "no growth in open file descriptors", fd_end <= fd1 + 5,
                f"{fd1} after 1 min, {fd_end} in the last minute")
        db1, db_end = max(s[3] for s in minute1), max(s[3] for s in last)
        v.check(phase, "no growth in database connections", db_end <= db1 + 2,
                f"{db1} after 1 min, {db_end} in the last minute")
        loaded = judge_load(v, phase, result, db, run, portal, seconds)
        report[phase] = {**loaded, "samples": samples, "minutes": MINUTES, "users": plan["counts"]}
    finally:
        portal.stop()


def write_cdrs(path, prefix, names, rows):
    """`rows` calls of the last 30 days, ids `{prefix}{n:07d}`."""
    with open(path, "w") as f:
        f.write(cdrs.HEADER)
        f.writelines(cdrs.lines(prefix, names, rows, cdrs.MONTH))


def wait_for_rows(db, like, at_least, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        n = db.scalar(f"SELECT COUNT(*) FROM calls WHERE id LIKE '{like}'")
        if n >= at_least:
            return n
        time.sleep(0.2)
    return None


def phase_sigterm(v, backend, work, report):
    phase = f"sigterm-{backend}"
    db = Database(backend, work)
    portal = Portal(db, work)
    run = uuid.uuid4().hex[:6]
    portal.cli("migrate")
    portal.cli("seed-demo")
    portal.start()
    _, _, admin = http(portal.base, "POST", "/api/v1/auth/login", {"email": "admin@contoso.example", "password": PASSWORD})
    _, services, _ = http(portal.base, "GET", "/api/v1/services", cookie=admin)
    _, token, _ = http(portal.base, "POST", "/api/v1/api-tokens",
                       {"name": "soak sigterm", "scope": "ingest", "expires_in_days": 1}, admin)
    names = sorted(s["name"] for s in services["services"])
    figures = {}
    try:
        # 1. SIGTERM to `portal serve` during a 1,000,000-row upload.
        path = os.path.join(work, f"upload-{run}.csv")
        prefix = f"up-{run}-"
        write_cdrs(path, prefix, names, UPLOAD_ROWS)
        size = os.path.getsize(path)
        def curl(base):
            return ["curl", "-sS", "-o", os.path.join(work, f"upload-{run}.json"), "-w", "%{http_code}", "-D",
                    os.path.join(work, f"upload-{run}.headers"), "-H", f"Authorization: Bearer {token['secret']}",
                    "-H", "Content-Type: text/csv", "--data-binary", f"@{path}", base + "/api/v1/ingest/calls"]
        upload = subprocess.Popen(curl(portal.base), stdout=subprocess.PIPE, text=True)
        first = wait_for_rows(db, prefix + "%", IMPORT_BATCH, 300)
        signalled = time.time()
        portal.proc.send_signal(signal.SIGTERM)
        try:
            code = portal.proc.wait(DRAIN_SECS + 10)
        except subprocess.TimeoutExpired:
            code = None
            portal.proc.kill()
        exited = time.time() - signalled
        status = upload.communicate(timeout=60)[0].strip()
        answer = open(os.path.join(work, f"upload-{run}.json")).read()
        headers = open(os.path.join(work, f"upload-{run}.headers")).read().lower()
        stored = db.scalar(f"SELECT COUNT(*) FROM calls WHERE id LIKE '{prefix}%'")
        said = re.search(r"(\d+) rows were stored", answer)
        v.check(phase, "SIGTERM mid-upload: the server exits within its drain time",
                first is not None and code is not None and exited <= DRAIN_SECS + 5,
                f"{size / 1e6:.0f} MB body, signal after {first} rows stored, exited {exited:.1f} s later (status {code})")
        v.check(phase, "the upload answers 503 shutting_down with Retry-After and what was stored",
                status == "503" and '"shutting_down"' in answer and "retry-after" in headers and said
                and int(said.group(1)) == stored,
                f"HTTP {status}: {answer[:160]}")
        v.check(phase, "only whole batches were stored", stored % IMPORT_BATCH == 0 and stored < UPLOAD_ROWS,
                f"{stored} rows stored ({stored // IMPORT_BATCH} batches of {IMPORT_BATCH})")
        portal = Portal(db, work)
        portal.start()
        started = time.time()
        res = subprocess.run(curl(portal.base), capture_output=True, text=True, timeout=900)
        again = json.loads(open(os.path.join(work, f"upload-{run}.json")).read())
        total = db.scalar(f"SELECT COUNT(*) FROM calls WHERE id LIKE '{prefix}%'")
        v.check(phase, "sending the same file again completes it, the rest counted as duplicates",
                res.stdout.strip() == "200" and again.get("stored") == UPLOAD_ROWS - stored
                and again.get("duplicates") == stored and total == UPLOAD_ROWS,
                f"HTTP {res.stdout.strip()}: stored {again.get('stored')}, duplicates {again.get('duplicates')}; "
                f"{total} rows in the database ({time.time() - started:.0f} s)")
        figures["upload"] = {"bytes": size, "stored_before_signal": stored, "exit_s": round(exited, 2)}
        portal.stop()

        # 2. SIGTERM to `portal calls import`.
        path2 = os.path.join(work, f"import-{run}.csv")
        prefix2 = f"im-{run}-"
        write_cdrs(path2, prefix2, names, UPLOAD_ROWS)
        os.remove(path)
        importer = subprocess.Popen([portal.binary, "calls", "import", path2, "--org", "contoso"], env=portal.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = wait_for_rows(db, prefix2 + "%", IMPORT_BATCH, 300)
        signalled = time.time()
        importer.send_signal(signal.SIGTERM)
        try:
            output = importer.communicate(timeout=DRAIN_SECS + 10)[0]
        except subprocess.TimeoutExpired:
            importer.kill()
            output = importer.communicate()[0]
        exited = time.time() - signalled
        stored = db.scalar(f"SELECT COUNT(*) FROM calls WHERE id LIKE '{prefix2}%'")
        v.check(phase, "SIGTERM mid-import: `portal calls import` stops within its drain time, exit 1, says how to finish",
                first is not None and importer.returncode == 1 and exited <= DRAIN_SECS + 5 and "again" in output,
                f"exit {importer.returncode} {exited:.1f} s after the signal: {output.strip()[-200:]}")
        v.check(phase, "the import stored whole batches only", stored % IMPORT_BATCH == 0 and stored < UPLOAD_ROWS,
                f"{stored} rows stored")
        rerun = subprocess.run([portal.binary, "calls", "import", path2, "--org", "contoso"], env=portal.env,
                               capture_output=True, text=True, timeout=900)
        total = db.scalar(f"SELECT COUNT(*) FROM calls WHERE id LIKE '{prefix2}%'")
        v.check(phase, "the same import again completes it", rerun.returncode == 0 and total == UPLOAD_ROWS,
                f"exit {rerun.returncode}: {rerun.stdout.strip()[-200:] or rerun.stderr.strip()[-200:]}; {total} rows")
        os.remove(path2)
        figures["import"] = {"stored_before_signal": stored, "exit_s": round(exited, 2)}
        report[phase] = figures
    finally:
        portal.stop()


def phase_disk_full(v, work, report):
    phase = "disk-full"
    if os.geteuid() != 0:
        v.check(phase, "a real full disk (tmpfs)", False, "needs root to mount a tmpfs")
        return
    mount = os.path.join(work, "fulldisk")
    os.makedirs(mount)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", mount], check=True)
    try:
        env = dict(os.environ, PORTAL_TEST_FULL_DISK_DIR=mount)
        env.pop("PORTAL_TEST_DATABASE_URL", None)
        # Where the disk fills up (a statement, or the COMMIT) varies from run to run, and one
        # run in five once failed: ten runs.
        runs, passed, last = 10, 0, ""
        for _ in range(runs):
            res = subprocess.run(["cargo", "test", "-q", "-p", "server", "--test", "outages", "a_really_full_disk",
                                  "--", "--nocapture"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800)
            if res.returncode == 0 and "1 passed" in res.stdout and "skipped" not in res.stdout + res.stderr:
                passed += 1
            else:
                last = res.stdout[-3000:] + res.stderr[-3000:]
        v.check(phase, "SQLite on a full 12 MB tmpfs: 507, reads served, nothing half-written, recovers",
                passed == runs, f"{passed} of {runs} runs passed")
        if last:
            print(last)
    finally:
        subprocess.run(["umount", mount])


def phase_fuzz(v, work, report):
    phase = "fuzz"
    for backend in ("sqlite", "postgres"):
        env = dict(os.environ)
        if backend == "sqlite":
            env.pop("PORTAL_TEST_DATABASE_URL", None)
        started = time.time()
        res = subprocess.run([os.path.join(ROOT, "scripts", "fuzz-api.sh"), str(FUZZ_SECS)], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=7200)
        tail = [line for line in res.stdout.splitlines() if line.startswith("schemathesis on")]
        cases = sum(int(m) for m in re.findall(r"(\d+) generated", res.stdout))
        v.check(phase, f"Schemathesis on {backend}, {FUZZ_SECS} s per run: zero 5xx, every answer as documented",
                res.returncode == 0, f"{tail[-1] if tail else res.stdout[-300:]}; {cases} cases "
                f"in {time.time() - started:.0f} s")
        if res.returncode != 0:
            print(res.stdout[-5000:], res.stderr[-2000:])


PHASES = {
    "load-sqlite": lambda v, w, r: phase_load(v, "sqlite", w, r),
    "load-postgres": lambda v, w, r: phase_load(v, "postgres", w, r),
    "pg-outage": phase_pg_outage,
    "soak": phase_soak,
    "sigterm-sqlite": lambda v, w, r: phase_sigterm(v, "sqlite", w, r),
    "sigterm-postgres": lambda v, w, r: phase_sigterm(v, "postgres", w, r),
    "disk-full": phase_disk_full,
    "fuzz": phase_fuzz,
}


def markdown(v, report, started):
    lines = [f"# make soak, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}", "",
             f"{USERS} users, {INGEST_CLIENTS} ingest clients, {SECONDS} s; soak {MINUTES:g} min at half the "
             f"load; fuzz {FUZZ_SECS} s per run. {os.cpu_count()} cores, the load generator beside the portal.", "",
             "| phase | check | result | detail |", "|---|---|---|---|"]
    for row in v.rows:
        result = ("aim met" if row["aim"] else "aim missed") if "aim" in row else ("pass" if row["ok"] else "**FAIL**")
        lines.append(f"| {row['phase']} | {row['check']} | {result} | {row['detail'].replace('|', '/')} |")
    for phase in ("load-sqlite", "load-postgres", "soak"):
        if phase in report and "rows" in report[phase]:
            lines += ["", f"## {phase}: per request type (steady state, after the last sign-in)", "",
                      "| request | count | req/s | p50 ms | p95 ms | p99 ms | max ms | 5xx |", "|---|---|---|---|---|---|---|---|"]
            for r in report[phase]["rows"]:
                lines.append(f"| {r['name']} | {r['count']} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | "
                             f"{r['p99']:.0f} | {r['max']:.0f} | {r['errors']} |")
            s = report[phase]["summary"]
            lines.append(f"| **all** | {s['requests']} | {s['rps']:.1f} | | | | | {s['status_5xx']} |")
            lines.append(f"| **API reads** | {s['api_reads']} | | {s['api_p50']:.0f} | {s['api_p95']:.0f} | {s['api_p99']:.0f} | | |")
            lines += ["", f"Signing in, while the users arrive ({phase}):", "",
                      "| request | count | p50 ms | p95 ms | p99 ms | max ms | 5xx |", "|---|---|---|---|---|---|---|"]
            for r in report[phase].get("sign_in_rows", []):
                lines.append(f"| {r['name']} | {r['count']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
                             f"{r['max']:.0f} | {r['errors']} |")
    return "\n".join(lines) + "\n"


def main():
    wanted = sys.argv[1:] or list(PHASES)
    unknown = [p for p in wanted if p not in PHASES]
    if unknown:
        sys.exit(f"soak.py: unknown phase {unknown[0]}; phases: {', '.join(PHASES)}")
    if not PG_URL and any(p in wanted for p in ("load-postgres", "pg-outage", "soak", "sigterm-postgres")):
        sys.exit("soak.py: run it through scripts/with-postgres.sh (scripts/soak.sh does)")
    os.makedirs(OUT_DIR, exist_ok=True)
    started = time.time()
    v = Verdicts()
    report = {}
    import tempfile
    for phase in wanted:
        work = tempfile.mkdtemp(prefix=f"portal-soak-{phase}.", dir="/tmp")
        log(f"== {phase} ==")
        try:
            PHASES[phase](v, work, report)
        except Exception as e:  # a phase that could not run fails, and the others still run
            import traceback
            traceback.print_exc()
            v.check(phase, "the phase ran", False, f"{type(e).__name__}: {str(e)[:300]}")
        finally:
            if os.environ.get("SOAK_KEEP"):
                log(f"kept {work}")
            else:
                subprocess.run(["rm", "-rf", work])
    text = markdown(v, report, started)
    open(os.path.join(OUT_DIR, "REPORT.md"), "w").write(text)
    json.dump({"verdicts": v.rows, "report": report}, open(os.path.join(OUT_DIR, "results.json"), "w"), default=str)
    print()
    print(text)
    failed = sum(1 for r in v.rows if not r["ok"])
    passed = len(v.rows) - failed
    print(f"soak: {passed} passed, {failed} failed ({(time.time() - started) / 60:.1f} min); target/soak/REPORT.md")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
