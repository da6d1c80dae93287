#!/usr/bin/env python3
"""collector_seeds.py - seed corpus for fuzz_collector (hostile messages).

    collector_seeds.py --out CORPUS_DIR

Each seed is one byte choosing the topic (see tests/fuzz/fuzz_collector.c:
0 raw "topic\\npayload", 1 alert topic from the payload's own members,
2 status, 3 stats, 4 asset) followed by the payload.  Written: a valid
alert as an agent sends it, then the same alert broken every way the
intake must survive: deeply nested JSON, huge and fractional numbers,
invalid UTF-8 and escapes, duplicate keys, every member with every wrong
type, members missing, hash not last; stats and asset objects likewise;
raw topics with too many, too few and empty levels.  Standard library
only; deterministic.
"""

import argparse
import hashlib
import json
import os
import sys

ALERT = (
    '{"agent":"gw-01","site":"plant-a","seq":1,'
    '"ts":"2026-11-23T08:15:02.123456Z","severity":"high",'
    '"detector":"s7.plc_stop","technique":"T0858",'
    '"title":"S7 PLC STOP command","proto":"s7comm",'
    '"src":{"ip":"10.0.0.66","port":49152,"mac":"02:00:00:00:00:42"},'
    '"dst":{"ip":"10.0.0.10","port":102,"mac":"02:00:00:00:00:10"},'
    '"details":{"function":41},'
    '"prev_hash":"' + "0" * 64 + '",'
    '"hash":"' + "a" * 64 + '"}')

WRONG = ["null", "true", "false", "0", "-1", "1.5", "1e400", '""', '"x"',
         "[]", "{}", '[1,"a",null]', '{"a":{"b":[]}}']


def seeds():
    a = json.loads(ALERT)
    yield 1, ALERT
    yield 1, ALERT + "\n"
    yield 0, "icsentry/plant-a/gw-01/alert/high\n" + ALERT
    # every member with every wrong type, and missing
    for k in list(a):
        for w in WRONG:
            b = dict(a)
            b[k] = "@@"
            yield 1, json.dumps(b, separators=(",", ":")).replace(
                '"@@"', w)
        b = dict(a)
        del b[k]
        yield 1, json.dumps(b, separators=(",", ":"))
    for sub in ("src", "dst"):
        for k in ("ip", "port", "mac"):
            for w in WRONG:
                b = json.loads(ALERT)
                b[sub][k] = "@@"
                yield 1, json.dumps(b, separators=(",", ":")).replace(
                    '"@@"', w)
    # huge, negative, fractional and unsafe-integer numbers
    for n in ("18446744073709551616", "9223372036854775808",
              "9007199254740993", "-9223372036854775809", "1e308",
              "1e-400", "-0", "0.0000001", "123456789012345678901234567890",
              "1" * 400):
        for k in ("seq", "port"):
            if k == "seq":
                yield 1, ALERT.replace('"seq":1', '"seq":' + n)
            else:
                yield 1, ALERT.replace('"port":49152', '"port":' + n)
    # deeply nested JSON, in details and as the whole message
    for depth in (100, 999, 1000, 1001, 5000, 50000):
        yield 1, ALERT.replace('{"function":41}',
                               "[" * depth + "]" * depth)
        yield 1, '{"a":' * depth + "1" + "}" * depth
        yield 3, '{"alerts":' * depth + "{}" + "}" * depth
    yield 1, "[" * 60000
    # invalid UTF-8, escapes, NULs
    for s in (b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
              b"\x80", b"\\ud800", b"\\udc00\\ud800", b"\\u0000",
              b"a\x00b", b"\xe2\x82"):
        t = s.decode("latin-1")
        yield 1, ALERT.replace("S7 PLC STOP command", t)
        yield 1, ALERT.replace('"agent":"gw-01"', '"agent":"gw' + t + '"')
        yield 1, ALERT.replace("2026-11-23T08:15:02.123456Z",
                               "2026-11-23T08:15:02" + t + "Z")
    # duplicate keys, hash not last, trailing garbage
    yield 1, ALERT.replace('"seq":1,', '"seq":1,"seq":2,')
    yield 1, ALERT.replace('"site":"plant-a",',
                           '"site":"plant-a","site":"plant-b",')
    yield 1, ALERT[:-1] + ',"hash":"' + "b" * 64 + '"}'
    yield 1, ALERT.replace('"hash":"' + "a" * 64 + '"}',
                           '"hash":"' + "a" * 64 + '","x":1}')
    yield 1, ALERT + "garbage"
    yield 1, ALERT + ALERT
    # times that do not exist or do not fit
    for ts in ("2026-02-30T00:00:00Z", "99999-01-01T00:00:00Z",
               "2026-11-23T24:00:00Z", "2026-11-23T08:15:02.1234567890123Z",
               "2026-11-23T08:15:02+99:99", "1969-12-31T23:59:59Z",
               "0000-01-01T00:00:00Z", ""):
        yield 1, ALERT.replace("2026-11-23T08:15:02.123456Z", ts)
    # status, stats, assets
    for s in ("online", "offline", "", "onlinex", "ONLINE", "online\x00"):
        yield 2, s
    for s in ('{"alerts":{"last_seq":5}}', '{"alerts":{"last_seq":1e300}}',
              '{"alerts":{"last_seq":-1}}', '{"alerts":{"last_seq":"5"}}',
              '{"alerts":[]}', "[]", "1", '{"a":1,"a":2}', "{}"):
        yield 3, s
    for s in ('{"ip":"10.0.0.5","vendor":"x"}', '{"ip":"../../etc"}',
              '{"ip":""}', "[]", "", '{"ip":"' + "9" * 90 + '"}'):
        yield 4, s
    # raw topics
    for t in ("icsentry/a/b/status", "icsentry//b/status", "icsentry/a//stats",
              "icsentry/a/b/alert/high/x", "icsentry/a/b/alert/bogus",
              "icsentry/a/b/asset/", "icsentry/a/b/c/d/e/f/g", "icsentry",
              "other/a/b/status", "icsentry/a/b/ack", "#", "+/+/+/status",
              "icsentry/a\x00b/c/status", "/" * 300):
        yield 0, t + "\nonline"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    n = 0
    for mode, payload in seeds():
        b = bytes([mode]) + payload.encode("latin-1")
        name = "seed-" + hashlib.sha1(b).hexdigest()[:16]
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(b)
        n += 1
    print("collector_seeds: %d seeds" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
