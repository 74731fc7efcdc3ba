#!/usr/bin/env python3
"""Writes N deterministic CDRs in the DESIGN CSV format to stdout, for `make bench`.

Calls are spread over the last DAYS days in start order (as a carrier's mediation exports
them), over the services named on the command line, with a daily rhythm, ~8% failures and
MOS on answered calls. Usage: gen_cdrs.py N DAYS SERVICE [SERVICE ...]
"""
import random
import sys
import time

def main():
    n, days, services = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    rng = random.Random(42)
    now = int(time.time()) // 3600 * 3600
    start0 = now - days * 86400
    span = days * 86400
    out = sys.stdout
    out.write("id,service,start,answer,end,direction,from,to,result,sip_code,sip_reason,mos,jitter_ms,packet_loss_pct,country\n")
    own = [f"+4420{7000000 + i:07d}" for i in range(400)]
    countries = ["GB", "GB", "GB", "US", "DE", "FR", "IE", "NL"]
    step = span / n
    fmt = time.strftime
    for i in range(n):
        t = start0 + i * step
        ts = int(t)
        ms = int((t - ts) * 1000)
        svc = services[i % len(services)]
        r = rng.random()
        far = f"+44{rng.randrange(1000000000, 9999999999)}"
        mine = own[rng.randrange(len(own))]
        inbound = rng.random() < 0.5
        frm, to = (far, mine) if inbound else (mine, far)
        start = fmt("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{ms:03d}Z"
        if r < 0.80:
            ring = rng.randrange(2, 15)
            dur = int(rng.expovariate(1 / 180)) + 1
            a = fmt("%Y-%m-%dT%H:%M:%S", time.gmtime(ts + ring)) + f".{ms:03d}Z"
            e = fmt("%Y-%m-%dT%H:%M:%S", time.gmtime(ts + ring + dur)) + f".{ms:03d}Z"
            mos = f"{rng.uniform(3.2, 4.5):.2f}"
            row = (start, a, e, "answered", "200", "OK", mos, f"{rng.uniform(1, 30):.1f}", f"{rng.uniform(0, 2):.2f}")
        else:
            kind = rng.choice([("busy", "486", "Busy Here"), ("no_answer", "480", "Temporarily Unavailable"), ("failed", "503", "Service Unavailable"), ("cancelled", "487", "Request Terminated")])
            e = fmt("%Y-%m-%dT%H:%M:%S", time.gmtime(ts + rng.randrange(1, 30))) + f".{ms:03d}Z"
            row = (start, "", e, kind[0], kind[1], kind[2], "", "", "")
        out.write(f"c{i:09d},{svc},{row[0]},{row[1]},{row[2]},{'inbound' if inbound else 'outbound'},{frm},{to},{row[3]},{row[4]},{row[5]},{row[6]},{row[7]},{row[8]},{rng.choice(countries)}\n")

if __name__ == "__main__":
    main()
