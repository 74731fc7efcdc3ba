"""The authenticator app's code (RFC 6238: HMAC-SHA1, 30-second steps, six digits), for the
soak's TOTP users: soak.py confirms their enrolment with it, the locustfile signs them in."""

import base64
import hashlib
import hmac
import struct


def totp_code(secret, step):
    """The code of base32 `secret` for time step `step` (Unix seconds // 30)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 15
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)
