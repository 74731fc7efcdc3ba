"""The portal's load: signed-in people of every kind, and CDR ingest clients (Locust).

Run by scripts/soak/soak.py, which prepares the accounts and writes their details to the
JSON file named by SOAK_PLAN:

  {"base": "http://127.0.0.1:PORT", "password": "...", "run": "RUNID",
   "accounts": {"password": [{"email", "org", "role"}], "totp": [{"email", "org", "role",
   "secret"}], "sso": [{"email", "name", "org"}]},
   "orgs": {"slug": {"name", "services": {id: name}, "numbers": [e164], "addresses": [id],
   "ingest_token": "vcp_..."}},
   "counts": {"password": N, "totp": N, "sso": N, "ingest": N}}

Every answer is checked, not only counted: /api/v1/me names this virtual user and its own
organisation, and every list holds the organisation's own services, numbers, calls and
addresses only (compared with what soak.py read before the load, one request at a time).
Each request is recorded (start time, name, status, latency, whether a 503 carried
Retry-After and the JSON error shape); at the end the records and the check counters go to
SOAK_OUT for soak.py to judge.
"""

import csv
import io
import itertools
import json
import os
import random
import time
import urllib.parse

import gevent
from locust import FastHttpUser, between, constant, events, task
from locust.exception import StopUser

import cdrs  # beside this file
from rfc6238 import totp_code

PLAN = json.load(open(os.environ["SOAK_PLAN"]))
BASE = PLAN["base"]
PASSWORD = PLAN["password"]
COOKIE = "__Host-portal_session"
CONTOSO_TENANT = "6f1c4a9e-3b52-4c1d-9a57-2e8f0b7d4c11"

# What every request did: [t_start, name, status, ms, retry_after, json_error, user].
RECORDS = []
# Check failures by kind: wrong_identity, foreign_org, unexpected_status, server_error, ...
PROBLEMS = {}
EXAMPLES = []
# Users signed in (soak.py measures from the moment all are).
SIGNED_IN = {"count": 0, "all_at": None}
# Ingest: ids acknowledged per organisation, rows reported stored / duplicate.
INGEST = {"batches": 0, "stored": 0, "duplicates": 0, "retries": 0, "acknowledged": {}}
# Emergency addresses created during the run, per organisation.
CREATED_ADDRESSES = {slug: set() for slug in PLAN["orgs"]}

_next = {kind: itertools.count() for kind in ("password", "totp", "sso", "ingest")}
EXPECTED_USERS = sum(PLAN["counts"][k] for k in ("password", "totp", "sso"))


ENVIRONMENT = {}


@events.init.add_listener
def _keep_environment(environment, **_kwargs):
    ENVIRONMENT["env"] = environment


def all_signed_in():
    """Measurement starts: soak.py is told (the `.ready` file), and the run ends
    SOAK_RUN_SECONDS later."""
    SIGNED_IN["all_at"] = time.time()
    with open(os.environ["SOAK_OUT"] + ".ready", "w") as f:
        f.write(repr(SIGNED_IN["all_at"]))
    gevent.spawn_later(float(os.environ.get("SOAK_RUN_SECONDS", "60")), ENVIRONMENT["env"].runner.quit)


def problem(kind, detail):
    PROBLEMS[kind] = PROBLEMS.get(kind, 0) + 1
    if len(EXAMPLES) < 40:
        EXAMPLES.append(f"{kind}: {detail}")


def session_cookie(response):
    for header in response.headers.get_all("set-cookie") or []:
        if header.startswith(COOKIE + "=") and "Max-Age=0" not in header:
            return header.split(";")[0].split("=", 1)[1]
    return None


def cookie_value(response, name):
    for header in response.headers.get_all("set-cookie") or []:
        if header.startswith(name + "="):
            return header.split(";")[0].split("=", 1)[1]
    return None


class Portal(FastHttpUser):
    """One signed-in person: reads pages and the API, exports, edits (engineers and admins)."""

    abstract = True
    host = BASE
    wait_time = between(0.5, 1.5)
    # Sign-ins wait for Argon2 under load; nothing else should come near this.
    network_timeout = 60.0
    connection_timeout = 10.0

    kind = None

    def on_start(self):
        self.account = PLAN["accounts"][self.kind][next(_next[self.kind]) % len(PLAN["accounts"][self.kind])]
        self.org = PLAN["orgs"][self.account["org"]]
        self.slug = self.account["org"]
        self.cookie = None
        self.sign_in()
        if not self.cookie:
            raise StopUser()
        SIGNED_IN["count"] += 1
        if SIGNED_IN["count"] == EXPECTED_USERS:
            all_signed_in()

    # -- helpers -----------------------------------------------------------------------

    def headers(self, extra=None):
        h = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        if extra:
            h.update(extra)
        return h

    def call(self, method, path, name, expect=(200,), body=None, headers=None, check=None,
             allow_redirects=False):
        """One request, recorded; `check(response)` returns a problem text or None."""
        h = self.headers(headers)
        data = None
        if method != "GET":
            h["Origin"] = BASE  # as the portal's own pages send it
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        with self.client.request(method, path, name=name, data=data, headers=h,
                                 catch_response=True, allow_redirects=allow_redirects) as r:
            judge(r, name, expect, check, self.account.get("email"))
            return r

    # -- tasks -------------------------------------------------------------------------

    @task(3)
    def me(self):
        def check(r):
            me = r.json()
            if me["user"]["email"].lower() != self.account["email"].lower():
                return ("wrong_identity", f"{self.account['email']} got {me['user']['email']}")
            if me["organisation"]["slug"] != self.slug:
                return ("foreign_org", f"{self.account['email']} of {self.slug} got {me['organisation']['slug']}")
            return None
        self.call("GET", "/api/v1/me", "api me", check=check)

    @task(2)
    def pages(self):
        path, title = random.choice([("/", "Overview"), ("/calls", "Calls"),
                                     ("/numbers", "Numbers"), ("/analytics", "Analytics")])

        def check(r):
            if f"<title>{title} ·" not in r.text:
                return ("wrong_page", f"{path} for {self.account['email']}: no '{title}' title")
            return None
        self.call("GET", path, f"page {path}", check=check)

    @task(2)
    def summary(self):
        days = random.choice([1, 7, 30])
        self.call("GET", f"/api/v1/analytics/summary?{window(days)}", "api summary",
                  check=lambda r: self.own_services([s["service_id"] for s in r.json()["current"]["services"]]))

    @task(2)
    def timeseries(self):
        days = random.choice([1, 7])
        self.call("GET", f"/api/v1/analytics/timeseries?{window(days)}", "api timeseries",
                  check=lambda r: self.own_services([s["key"] for s in r.json()["series"]]))

    @task(4)
    def calls(self):
        params = {"limit": random.choice([25, 50, 100])}
        pick = random.random()
        if pick < 0.3:
            params["service"] = random.choice(list(self.org["services"]))
        elif pick < 0.5:
            params["direction"] = random.choice(["inbound", "outbound"])
        elif pick < 0.7:
            params["result"] = random.choice(["answered", "failed", "busy"])
        elif pick < 0.85:
            params["min_mos"] = "3.5"
        if random.random() < 0.5:
            params.update(dict(urllib.parse.parse_qsl(window(random.choice([1, 7, 30])))))

        def check(r):
            calls = r.json()["calls"]
            bad = self.own_services([c["service_id"] for c in calls])
            if bad:
                return bad
            for key in ("service", "direction", "result"):
                if key in params and any(c["service_id" if key == "service" else key] != params[key] for c in calls):
                    return ("wrong_filter", f"calls filtered on {key}={params[key]} returned others")
            return None
        r = self.call("GET", "/api/v1/calls?" + urllib.parse.urlencode(params), "api calls (filtered)", check=check)
        # A third of the time, the next page too (the keyset cursor of the same filters).
        if r.status_code == 200 and random.random() < 0.33:
            try:
                cursor = r.json().get("next_cursor")
            except ValueError:
                cursor = None
            if cursor:
                params["cursor"] = cursor
                self.call("GET", "/api/v1/calls?" + urllib.parse.urlencode(params), "api calls (next page)",
                          check=check)

    @task(3)
    def numbers(self):
        params = {"limit": 50}
        pick = random.random()
        if pick < 0.5:
            params["q"] = random.choice(["+44", "+49", "+31", "20", "hunt", "reception"])
        elif pick < 0.7:
            params["unassigned"] = "true"
        elif pick < 0.85:
            params["country"] = random.choice(["GB", "DE", "NL", "US"])
        self.call("GET", "/api/v1/numbers?" + urllib.parse.urlencode(params), "api numbers (search)",
                  check=lambda r: self.own_numbers([n["e164"] for n in r.json()["numbers"]]))

    @task(1)
    def services_and_incidents(self):
        self.call("GET", "/api/v1/services", "api services",
                  check=lambda r: self.own_services([s["id"] for s in r.json()["services"]]))
        self.call("GET", "/api/v1/incidents", "api incidents",
                  check=lambda r: self.own_services([i["service_id"] for i in r.json()["incidents"] if i["service_id"]]))

    @task(1)
    def addresses(self):
        def check(r):
            for a in r.json()["addresses"]:
                if a["id"] not in self.org["addresses"] and a["id"] not in CREATED_ADDRESSES[self.slug]:
                    other = [s for s, ids in CREATED_ADDRESSES.items() if a["id"] in ids]
                    if other or not a["label"].startswith(f"soak {self.slug} "):
                        return ("foreign_org", f"{self.slug} listed address {a['id']} ({a['label']})")
            return None
        self.call("GET", "/api/v1/emergency-addresses", "api emergency addresses", check=check)

    @task(1)
    def exports(self):
        if random.random() < 0.5:
            names = set(self.org["services"].values())

            def check(r):
                rows = list(csv.DictReader(io.StringIO(r.text)))
                foreign = [row["service"] for row in rows if row["service"] not in names]
                if foreign:
                    return ("foreign_org", f"{self.slug} calls export has service {foreign[0]}")
                return None
            # An hour two days ago: a small export (an export holds every matching row, and
            # the ingest clients add about 400 calls a service-hour over the month).
            self.call("GET", f"/api/v1/calls/export.csv?{window(1 / 24, days_ago=2)}", "csv calls (1 hour)", check=check)
        else:
            def check(r):
                rows = list(csv.DictReader(io.StringIO(r.text)))
                return self.own_numbers([row["e164"] for row in rows])
            self.call("GET", "/api/v1/numbers/export.csv?country=GB", "csv numbers (GB)", check=check)

    @task(2)
    def edit_number(self):
        if self.account["role"] == "viewer":
            return
        e164 = random.choice(self.org["numbers"])
        label = f"soak {self.account['email'][:40]} {random.randrange(1000)}"

        def check(r):
            n = r.json()
            if n["e164"] != e164 or n["assignment"] != label:
                return ("wrong_write", f"PATCH {e164} answered {n['e164']} {n['assignment']!r}")
            return None
        self.call("PATCH", f"/api/v1/numbers/{urllib.parse.quote(e164)}", "write number",
                  body={"assignment": label}, check=check)

    @task(1)
    def emergency_address(self):
        if self.account["role"] == "viewer":
            return
        label = f"soak {self.slug} {self.account['email'][:30]} {random.randrange(10**6)}"
        body = {"label": label, "street": "Soak Street", "house_number": str(random.randrange(1, 999)),
                "postal_code": "SW1A 1AA", "city": "London", "region": "", "country": "GB"}
        r = self.dangerous("POST", "/api/v1/emergency-addresses", "write emergency address (create)",
                           expect=(200, 201), body=body,
                           check=lambda r: None if r.json()["label"] == label else ("wrong_write", "created address label differs"))
        if not r.ok:
            return
        created = r.json()["id"]
        CREATED_ADDRESSES[self.slug].add(created)
        body["city"] = "Manchester"
        self.dangerous("PUT", f"/api/v1/emergency-addresses/{created}", "write emergency address (update)",
                       body=body, check=lambda r: None if r.json()["city"] == "Manchester" else ("wrong_write", "update lost"))
        self.dangerous("DELETE", f"/api/v1/emergency-addresses/{created}", "write emergency address (delete)",
                       expect=(200, 204))

    def dangerous(self, method, path, name, expect=(200,), body=None, check=None):
        """A dangerous action (issue 19's step-up): a session whose sign-in or last step-up is
        more than 10 minutes old is answered 401 `step_up_required`; the user steps up, as the
        portal's dialog makes a person do, and the action is sent again once."""
        r = self.call(method, path, name, expect=expect + (401,), body=body,
                      check=lambda r: None if r.status_code == 401 else (check(r) if check else None))
        if r.status_code != 401:
            return r
        try:
            wanted = r.json()["error"]
        except Exception:
            wanted = {}
        if wanted.get("code") != "step_up_required":
            problem("unexpected_status", f"{name} for {self.account['email']}: 401 {r.text[:200]}")
            return r
        if not self.step_up(wanted.get("field")):
            problem("step_up", f"{self.account['email']}: could not step up ({wanted.get('field')})")
            return r
        return self.call(method, path, f"{name} after step-up", expect=expect, body=body, check=check)

    def step_up(self, field):
        """Proves the user's factor again: the password, or a current authenticator code."""
        if field == "password":
            r = self.call("POST", "/api/v1/auth/step-up", "step-up (password)",
                          body={"password": PASSWORD})
            return r.status_code == 200
        if field == "code" and self.account.get("secret"):
            # A time step is used once per account: take the current one, then the next.
            step = int(time.time()) // 30
            for attempt in range(3):
                r = self.call("POST", "/api/v1/auth/step-up", "step-up (code)", expect=(200, 401),
                              body={"code": totp_code(self.account["secret"], step + attempt)})
                if r.status_code == 200:
                    return True
                if attempt == 1:
                    time.sleep(max(0.0, (step + 1) * 30 - time.time() + 0.5))
        return False

    # -- organisation checks -----------------------------------------------------------

    def own_services(self, ids):
        foreign = [i for i in ids if i not in self.org["services"]]
        if foreign:
            return ("foreign_org", f"{self.slug} ({self.account['email']}) saw service {foreign[0]}")
        return None

    def own_numbers(self, e164s):
        own = self.org["number_set"]
        foreign = [n for n in e164s if n not in own]
        if foreign:
            return ("foreign_org", f"{self.slug} ({self.account['email']}) saw number {foreign[0]}")
        return None


def window(days, days_ago=0):
    now = int(time.time()) - days_ago * 86400
    to = now - now % 3600 + 3600
    frm = to - int(days * 86400)
    fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    return urllib.parse.urlencode({"from": fmt(frm), "to": fmt(to)})


def judge(r, name, expect, check, who):
    """Marks the Locust response and records it."""
    status = r.status_code
    retry_after = bool(r.headers.get("retry-after")) if status else False
    json_error = False
    if status and status >= 400:
        try:
            err = r.json()["error"]
            json_error = isinstance(err.get("code"), str) and isinstance(err.get("message"), str)
        except Exception:
            json_error = False
    RECORDS.append([r.request_meta["start_time"], name, status or 0,
                    round(r.request_meta["response_time"], 2), retry_after, json_error, who])
    if status in expect:
        if check is not None:
            try:
                found = check(r)
            except Exception as e:  # an answer that is not what the document says
                found = ("malformed_answer", f"{name}: {type(e).__name__}: {e}")
            if found:
                problem(*found)
                r.failure(found[1])
                return
        r.success()
        return
    if status == 0:
        problem("connection_error", f"{name}: {r.error}")
    elif status >= 500:
        problem("server_error_503" if status == 503 else "server_error",
                f"{name} for {who}: {status} {r.text[:200]}")
    else:
        problem("unexpected_status", f"{name} for {who}: {status} {r.text[:200]}")
    r.failure(f"status {status}")


class PasswordUser(Portal):
    """Email and password."""

    kind = "password"
    fixed_count = PLAN["counts"]["password"]

    def sign_in(self):
        r = self.call("POST", "/api/v1/auth/login", "sign-in password",
                      body={"email": self.account["email"], "password": PASSWORD})
        if r.ok and r.json().get("status") == "signed_in":
            self.cookie = session_cookie(r)


class TotpUser(Portal):
    """Email and password, then the authenticator app's code."""

    kind = "totp"
    fixed_count = PLAN["counts"]["totp"]

    def sign_in(self):
        r = self.call("POST", "/api/v1/auth/login", "sign-in totp (password)",
                      body={"email": self.account["email"], "password": PASSWORD})
        if not r.ok or r.json().get("status") != "mfa_required":
            problem("sign_in", f"{self.account['email']}: {r.status_code} {r.text[:200]}")
            return
        self.cookie = session_cookie(r)
        # A code's time step is used once: soak.py confirmed the enrolment with the step it
        # was in, and a user signed in before (an earlier phase) used a later one. So take the
        # current step and, when that is refused as used, the next (the verifier allows one
        # step of drift).
        step = int(time.time()) // 30
        for attempt in range(3):
            code = totp_code(self.account["secret"], step + attempt)
            r = self.call("POST", "/api/v1/auth/mfa", "sign-in totp (code)", expect=(200, 401),
                          body={"code": code})
            if r.status_code == 200:
                self.cookie = session_cookie(r) or self.cookie
                return
            if attempt == 1:
                time.sleep(max(0.0, (step + 1) * 30 - time.time() + 0.5))
        problem("sign_in", f"{self.account['email']}: TOTP codes refused")
        self.cookie = None


class SsoUser(Portal):
    """Sign in with Microsoft, through the development Entra ID emulator."""

    kind = "sso"
    fixed_count = PLAN["counts"]["sso"]

    def sign_in(self):
        r = self.call("GET", "/auth/microsoft/login", "sign-in sso (start)", expect=(303,))
        oidc = cookie_value(r, "__Host-portal_oidc")
        authorize = r.headers.get("location", "")
        if not oidc or "/dev-idp/" not in authorize:
            problem("sign_in", f"SSO start: {r.status_code} {authorize}")
            return
        url = urllib.parse.urlsplit(authorize)
        form = urllib.parse.parse_qsl(url.query) + [
            ("identity", "other"), ("other_tenant", CONTOSO_TENANT),
            ("other_name", self.account["name"]), ("other_email", self.account["email"]),
            ("other_guest_of", "")]
        with self.client.request("POST", url.path, name="sign-in sso (emulator)",
                                 data=urllib.parse.urlencode(form),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"},
                                 catch_response=True, allow_redirects=False) as picked:
            judge(picked, "sign-in sso (emulator)", (302, 303), None, self.account["email"])
            callback = picked.headers.get("location", "")
        if "/auth/microsoft/callback" not in callback:
            problem("sign_in", f"SSO emulator: {picked.status_code} {callback}")
            return
        back = urllib.parse.urlsplit(callback)
        with self.client.request("GET", f"{back.path}?{back.query}", name="sign-in sso (callback)",
                                 headers={"Cookie": f"__Host-portal_oidc={oidc}"},
                                 catch_response=True, allow_redirects=False) as done:
            judge(done, "sign-in sso (callback)", (302, 303), None, self.account["email"])
            self.cookie = session_cookie(done)
        if not self.cookie:
            problem("sign_in", f"SSO callback gave no session: {done.status_code} {done.headers.get('location')}")


class IngestClient(FastHttpUser):
    """A carrier mediation system: 1,000-row CSV batches with an ingest token, each batch sent
    again (same ids) until it is acknowledged, as a client that survives outages would."""

    host = BASE
    fixed_count = PLAN["counts"]["ingest"]
    wait_time = constant(1.0)
    network_timeout = 60.0

    def on_start(self):
        self.n = next(_next["ingest"])
        self.slug = sorted(PLAN["orgs"])[self.n % len(PLAN["orgs"])]
        self.org = PLAN["orgs"][self.slug]
        self.names = sorted(self.org["services"].values())
        self.batch = 0
        INGEST["acknowledged"].setdefault(self.slug, 0)

    @task
    def post_batch(self):
        self.batch += 1
        body = cdr_batch(f"soak-{PLAN['run']}-{self.n}-{self.batch:06d}", self.names, self.batch)
        for attempt in range(60):
            with self.client.request("POST", "/api/v1/ingest/calls", name="ingest 1,000 rows",
                                     data=body, headers={"Authorization": f"Bearer {self.org['ingest_token']}",
                                                         "Content-Type": "text/csv"},
                                     catch_response=True) as r:
                expect = (200,)
                judge(r, "ingest 1,000 rows", expect, None, f"ingest {self.slug}")
                if r.status_code == 200:
                    report = r.json()
                    INGEST["batches"] += 1
                    INGEST["stored"] += report["stored"]
                    INGEST["duplicates"] += report["duplicates"]
                    INGEST["acknowledged"][self.slug] += 1000
                    if report["refused"]:
                        problem("ingest_refused", f"{report['refused']} rows refused: {report['errors'][:1]}")
                    return
                wait = float(r.headers.get("retry-after") or 1) if r.status_code else 1.0
            INGEST["retries"] += 1
            time.sleep(min(wait, 5.0))
        problem("ingest_gave_up", f"batch {self.batch} of {self.slug} never acknowledged")


def cdr_batch(prefix, services, batch):
    """The `batch`-th 1,000 calls of a stream spread over the last 30 days, ids `{prefix}-{n}`."""
    return (cdrs.HEADER + "".join(cdrs.lines(prefix + "-", services, 1000, cdrs.MONTH, first=batch * 1000))).encode()


for slug, org in PLAN["orgs"].items():
    org["number_set"] = set(org["numbers"])
    org["addresses"] = set(org["addresses"])


@events.quitting.add_listener
def _write_results(environment, **_kwargs):
    with open(os.environ["SOAK_OUT"], "w") as f:
        json.dump({"records": RECORDS, "problems": PROBLEMS, "examples": EXAMPLES,
                   "signed_in": SIGNED_IN, "ingest": INGEST,
                   "expected_users": EXPECTED_USERS}, f)
