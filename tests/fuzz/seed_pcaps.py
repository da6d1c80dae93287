#!/usr/bin/env python3
"""seed_pcaps.py - seed corpus for fuzz_pipeline: small pcaps cut from captures.

    seed_pcaps.py --out CORPUS_DIR [--max-bytes 16384] DIR_OR_FILE...

For every classic pcap or pcapng file given (directories are searched for
*.pcap and *.pcapng), writes classic pcap files of whole records that fit
in --max-bytes: the capture's first records, and a window from its middle
(where long captures have their commands).  pcapng captures are converted
(enhanced packet blocks of their first interface).  Each seed keeps its
capture's link type, so the pipeline fuzzer starts from every decoder
path the shared captures reach.  Standard library only.
"""

import argparse
import hashlib
import os
import struct
import sys


def records(data):
    """(linktype, [(sec, usec, bytes, wirelen)]) of a pcap/pcapng, or None."""
    if len(data) < 24:
        return None
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    elif magic == b"\x0a\x0d\x0d\x0a":
        return pcapng_records(data)
    else:
        return None
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(end + "I", data[20:24])[0]
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, cap, wire = struct.unpack(end + "IIII", data[off:off + 16])
        if cap > len(data) - off - 16:
            break
        out.append((sec, frac // 1000 if nano else frac,
                    data[off + 16:off + 16 + cap], wire))
        off += 16 + cap
    return link, out


def pcapng_records(data):
    end = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    link, out, off = None, [], 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack(end + "II", data[off:off + 8])
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1 and link is None and len(body) >= 2:
            link = struct.unpack(end + "H", body[:2])[0]
        elif btype == 6 and len(body) >= 20:
            iface, hi, lo, cap, wire = struct.unpack(end + "IIIII", body[:20])
            if iface == 0 and cap <= len(body) - 20:
                ts = (hi << 32 | lo)  # microseconds unless if_tsresol says
                out.append((ts // 1000000, ts % 1000000,
                            body[20:20 + cap], wire))
        off += blen
    return (link if link is not None else 1), out


def pcap_bytes(link, recs):
    b = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link)
    for sec, usec, pkt, wire in recs:
        b += struct.pack("<IIII", sec & 0xFFFFFFFF, usec, len(pkt), wire)
        b += pkt
    return b


def window(recs, start, max_bytes):
    out, size = [], 24
    for r in recs[start:]:
        size += 16 + len(r[2])
        if size > max_bytes:
            break
        out.append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-bytes", type=int, default=16384)
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    files = []
    for p in a.inputs:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p)
                            if f.endswith((".pcap", ".pcapng")))
        elif os.path.isfile(p):
            files.append(p)
    n = 0
    for path in files:
        with open(path, "rb") as f:
            got = records(f.read())
        if got is None or not got[1]:
            continue
        link, recs = got
        starts = {0, len(recs) // 2}
        for s in sorted(starts):
            w = window(recs, s, a.max_bytes)
            if not w:
                continue
            seed = pcap_bytes(link, w)
            name = hashlib.sha1(seed).hexdigest()[:16]
            with open(os.path.join(a.out, name), "wb") as f:
                f.write(seed)
            n += 1
    print("seed_pcaps: %d seeds from %d captures" % (n, len(files)))
    return 0 if n > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
