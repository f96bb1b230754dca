"""Phone sign-in by one-time code (DESIGN §4.9, seed 003's web frontend).

- `codes`: making, hashing and checking a 6-digit code; the limits of §4.9 as constants;
- `limits`: the per-address limit on code requests (`OTP_START_RATE`, in the cache);
- `senders`: delivery behind one small interface, chosen by `OTP_SENDER`;
- `models`: `PhoneCode`, one row per code sent (only its hash);
- `services`: start, verify (sign in) and attach a number to a signed-in account (merge).
"""
