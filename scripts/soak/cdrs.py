"""Call records in the DESIGN exchange format (CSV with its header), for the soak's ingest
clients and its million-row uploads: 80% answered calls, 20% busy, spread over the last 30
days (`MONTH`)."""

import time

MONTH = 30 * 86400

HEADER = ("id,service,start,answer,end,direction,from,to,result,sip_code,sip_reason,mos,jitter_ms,"
          "packet_loss_pct,country\n")


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def lines(prefix, services, count, window_secs, first=0, now=None):
    """`count` rows with ids `{prefix}{n:07d}`, spread over the `window_secs` before `now`:
    the n-th call of a stream (`first` + n) starts 97 s after the one before, wrapping round
    the window, so a month holds about 400 calls per service and hour, a realistic load for a
    trunk (a batch's calls all in one hour would be thousands of calls at once on a 60-channel
    trunk, and every batch would recompute that hour's peak from all of them)."""
    now = int(now or time.time())
    span = max(window_secs - 3600, 1)
    for n in range(count):
        start = now - window_secs + ((first + n) * 97) % span
        service = services[n % len(services)]
        if n % 10 < 8:
            yield (f"{prefix}{n:07d},{service},{stamp(start)},{stamp(start + 4)},{stamp(start + 64 + n % 300)},"
                   f"inbound,+4420794{n % 100000:05d},+4416149{n % 10000:04d}0,answered,200,OK,4.2,4.0,0.1,GB\n")
        else:
            yield (f"{prefix}{n:07d},{service},{stamp(start)},,{stamp(start + 15)},"
                   f"outbound,+4420794{n % 100000:05d},+3317000{n % 10000:04d}0,busy,486,Busy Here,,,,FR\n")
