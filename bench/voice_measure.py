#!/usr/bin/env python3
"""Part of `make bench` (bench/voice.sh): latency of the dashboard API on a large customer,
the calls export's rate and the server's memory meanwhile, and DuckDB computing the same
summary from the raw calls. Writes KEY=VALUE lines to --out."""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

import duckdb

HOUR = 3600


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--calls", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--requests", type=int, default=200)
    a = ap.parse_args()
    out = {"requests": a.requests}
    origin = f"http://127.0.0.1:{a.port}"

    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=600)
    body = json.dumps({"email": "bench@bench.example", "password": "violet tugboat orbit sandwich"})
    conn.request("POST", "/api/v1/auth/login", body, {"content-type": "application/json", "origin": origin})
    res = conn.getresponse()
    res.read()
    cookie = next(v.split(";")[0] for k, v in res.getheaders() if k.lower() == "set-cookie" and "portal_session" in v)
    headers = {"cookie": cookie, "accept": "application/json"}

    def get(path):
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise SystemExit(f"{path}: {r.status} {data[:300]!r}")
        return data

    # Whole UTC hours: the portal rounds its range to hours, DuckDB gets the same bounds.
    to = datetime.fromtimestamp(int(time.time()) // HOUR * HOUR, timezone.utc)
    frm = to - timedelta(days=30)
    iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    q = lambda **kw: urllib.parse.urlencode(kw)
    services = json.loads(get("/api/v1/services"))["services"]
    number = "+44207000140"
    paths = {
        "summary": f"/api/v1/analytics/summary?{q(**{'from': iso(frm), 'to': iso(to)})}",
        "calls_failed": "/api/v1/calls?result=failed",
        "calls_number": f"/api/v1/calls?{q(number=number, **{'from': iso(frm), 'to': iso(to)})}",
        "calls_service": f"/api/v1/calls?service={services[0]['id']}&direction=inbound",
        "calls_mos": "/api/v1/calls?min_mos=4.4&country=DE",
    }
    out["number"] = number
    for name, path in paths.items():
        get(path)  # warm
        times = []
        for _ in range(a.requests):
            t0 = time.perf_counter()
            get(path)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[f"{name}_p50"] = f"{statistics.median(times):.2f}"
        out[f"{name}_p95"] = f"{times[int(len(times) * 0.95) - 1]:.2f}"
        print(name, out[f"{name}_p50"], out[f"{name}_p95"], flush=True)
    summary = json.loads(get(paths["summary"]))

    # The export, with the server's resident memory sampled meanwhile.
    def rss_mb():
        with open(f"/proc/{a.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    out["rss_before_mb"] = f"{rss_mb():.0f}"
    peak = [0.0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    t0 = time.perf_counter()
    conn.request("GET", f"/api/v1/calls/export.csv?{q(**{'from': iso(frm), 'to': iso(to)})}", headers=headers)
    r = conn.getresponse()
    if r.status != 200:
        raise SystemExit(f"export: {r.status} {r.read()[:300]!r}")
    lines = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            break
        lines += chunk.count(b"\n")
    secs = time.perf_counter() - t0
    done.set()
    sampler.join()
    rows = lines - 1
    out["export_rows"] = rows
    out["export_secs"] = f"{secs:.2f}"
    out["export_rate"] = f"{rows / secs:.0f}"
    out["rss_peak_mb"] = f"{peak[0]:.0f}"
    print("export", rows, secs, peak[0], flush=True)

    # DuckDB: the same summary from the raw calls.
    duck = duckdb.connect()
    duck.execute(f"""
        CREATE TABLE calls AS SELECT * FROM read_csv('{a.csv}', header = true, columns = {{
          'id': 'VARCHAR', 'service': 'VARCHAR', 'start': 'TIMESTAMPTZ', 'answer': 'TIMESTAMPTZ',
          'end': 'TIMESTAMPTZ', 'direction': 'VARCHAR', 'from': 'VARCHAR', 'to': 'VARCHAR',
          'result': 'VARCHAR', 'sip_code': 'INTEGER', 'sip_reason': 'VARCHAR', 'mos': 'DOUBLE',
          'jitter_ms': 'DOUBLE', 'packet_loss_pct': 'DOUBLE', 'country': 'VARCHAR'}})""")
    figures = """
        SELECT count(*) AS calls,
               count(*) FILTER (WHERE result = 'answered') AS answered,
               coalesce(sum(epoch_ms("end") - epoch_ms(answer)) FILTER (WHERE result = 'answered'), 0) / 60000.0 AS minutes,
               count(*) FILTER (WHERE result IN ('answered', 'busy', 'no_answer')) / count(*) AS ner,
               avg(mos) AS mos
        FROM calls WHERE start >= $1 AND start < $2"""
    # Peak channels per service and hour, by sweep: +1 at each start, −1 at each end (ends
    # first at the same instant), the running sum's maximum per service over the range.
    peak_sql = """
        WITH ev AS (
          SELECT service, start AS t, 1 AS d FROM calls WHERE "end" > $1 AND start < $2 AND "end" > start
          UNION ALL
          SELECT service, "end", -1 FROM calls WHERE "end" > $1 AND start < $2 AND "end" > start
          UNION ALL
          SELECT DISTINCT service, $1, 0 FROM calls WHERE "end" > $1 AND start < $2 AND "end" > start),
        run AS (
          SELECT service, t, sum(d) OVER (PARTITION BY service ORDER BY t, CASE d WHEN -1 THEN 0 WHEN 1 THEN 1 ELSE 2 END
                                        ROWS UNBOUNDED PRECEDING) AS n FROM ev)
        SELECT service, max(n) FROM run WHERE t >= $1 AND t < $2 GROUP BY service"""
    prev = frm - timedelta(days=30)

    def duck_summary(with_peak):
        result = []
        for lo, hi in ((frm, to), (prev, frm)):
            result.append(duck.execute(figures, [lo, hi]).fetchone())
            if with_peak:
                result.append(sorted(duck.execute(peak_sql, [lo, hi]).fetchall()))
        return result

    duck_summary(True)  # warm
    runs = 10
    full, simple = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        res = duck_summary(True)
        full.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        duck_summary(False)
        simple.append((time.perf_counter() - t0) * 1000)
    out["duck_runs"] = runs
    out["duck_ms"] = f"{statistics.median(full):.1f}"
    out["duck_simple_ms"] = f"{statistics.median(simple):.1f}"
    p50 = float(out["summary_p50"])
    out["ratio"] = f"{statistics.median(full) / p50:.0f}"
    out["ratio_simple"] = f"{statistics.median(simple) / p50:.0f}"
    cur = summary["current"]
    d = res[0]
    agree = cur["calls"] == d[0] and cur["answered"] == d[1] and abs(cur["minutes"] - d[2]) < 0.5
    peaks_portal = sorted((s["service"], s["peak_channels"]) for s in cur["services"])
    agree = agree and peaks_portal == [tuple(x) for x in res[1]]
    out["agree"] = "yes (calls, answered, minutes, peak channels per service)" if agree else (
        f"NO: portal {cur['calls']}/{cur['answered']}/{cur['minutes']:.1f}/{peaks_portal}, duckdb {d[0]}/{d[1]}/{d[2]:.1f}/{res[1]}")
    # Rollup rows the portal reads for the two periods.
    out["rollup_rows"] = len(services) * 60 * 24
    with open(a.out, "w") as f:
        for k, v in out.items():
            f.write(f"{k}={v}\n")
    print(out, flush=True)


if __name__ == "__main__":
    main()
