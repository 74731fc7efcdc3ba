"""Call records in the DESIGN exchange format (CSV with its header), for the soak's ingest
clients and its million-row uploads: 80% answered calls, 20% busy, spread over a window."""

import time

HEADER = ("id,service,start,answer,end,direction,from,to,result,sip_code,sip_reason,mos,jitter_ms,"
          "packet_loss_pct,country\n")


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def lines(prefix, services, count, window_secs, now=None):
    """`count` rows with ids `{prefix}{n:07d}`, starting within the `window_secs` before
    `now`, over the named services in turn."""
    now = int(now or time.time())
    step = max(window_secs - 600, 1)
    for n in range(count):
        start = now - window_secs + (n * 7) % step
        service = services[n % len(services)]
        if n % 10 < 8:
            yield (f"{prefix}{n:07d},{service},{stamp(start)},{stamp(start + 4)},{stamp(start + 64 + n % 300)},"
                   f"inbound,+4420794{n % 100000:05d},+4416149{n % 10000:04d}0,answered,200,OK,4.2,4.0,0.1,GB\n")
        else:
            yield (f"{prefix}{n:07d},{service},{stamp(start)},,{stamp(start + 15)},"
                   f"outbound,+4420794{n % 100000:05d},+3317000{n % 10000:04d}0,busy,486,Busy Here,,,,FR\n")
