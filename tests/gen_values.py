#!/usr/bin/env python3
"""gen_values.py OUTDIR: DNP3 and IEC 104 captures for tests/check_chanmodel.c
(point envelopes, detectors/envelope_pts.c; replays, detectors/replay.c).

dnp3-benign.pcap, dnp3-attack.pcap (DNP3/TCP 20000): master 10.60.0.1 (link
  address 1) polls outstation 10.60.0.10 (link 10) every second with an
  integrity read (g60v1); the answer carries a common time of occurrence
  (g51v1, the outstation's clock), analog inputs 0-3 (g30v1, a random walk
  of at most 10 a poll) and running counters 0-1 (g20v1, +0..5 a poll).
  Every tenth poll the master writes the time (g50v1).  The benign capture
  runs 200 s from another seed and day; the attack capture 150 s, with:
    t=40 s   one answer with analog 2 raised by 5000 (a MITM)
    t=71.5 s the bytes of the master's time write of t=1 s sent again
             (its sequence number, its time: a replayed request)
    t=141.5 s the outstation's answer of 70 polls before sent again
             (older time, counters back, sequence not the request's)
iec104-benign.pcap, iec104-attack.pcap (IEC 104, 2404): RTU 10.61.0.10
  (common address 7) sends 10.61.0.1 every second M_ME_NC_1 floats for IOAs
  100-103 (cause periodic, a random walk of at most 0.5) and M_IT_NA_1 for
  IOA 200 (cause spontaneous, +0..3); the attack capture (150 s):
    t=50 s   IOA 101 reported 300 higher (a forged report)
    t=80 s   IOA 200 reported 1000 lower (a counter going back)
"""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_claims as gc  # noqa: E402  (pcap, TCP and MAC helpers)

T_BENIGN = 1733472000    # 2024-12-06T08:00:00Z
T_ATTACK = 1733385600    # 2024-12-05T08:00:00Z


def crc_dnp(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
    return ~crc & 0xFFFF


def dnp3_frame(ctrl, dst, src, user):
    hdr = struct.pack('<BBBBHH', 0x05, 0x64, 5 + len(user), ctrl, dst, src)
    out = hdr + struct.pack('<H', crc_dnp(hdr))
    for i in range(0, len(user), 16):
        blk = user[i:i + 16]
        out += blk + struct.pack('<H', crc_dnp(blk))
    return out


def t48(ms):
    return struct.pack('<IH', ms & 0xFFFFFFFF, ms >> 32)


class Tcp:
    """One TCP session written packet by packet (seq/ack kept)."""

    def __init__(self, p, t, cli, srv, cport, sport, cm, sm):
        self.p, self.cli, self.srv, self.cport, self.sport = p, cli, srv, cport, sport
        self.cm, self.sm = cm, sm
        self.cs, self.ss = 3000 + cport, 7000 + cport
        p.tcp(t, cli, srv, cport, sport, self.cs, 0, 0x02, b'', cm, sm)
        p.tcp(t + 0.001, srv, cli, sport, cport, self.ss, self.cs + 1, 0x12, b'', sm, cm)
        self.cs, self.ss = self.cs + 1, self.ss + 1
        p.tcp(t + 0.002, cli, srv, cport, sport, self.cs, self.ss, 0x10, b'', cm, sm)

    def c(self, t, data):
        self.p.tcp(t, self.cli, self.srv, self.cport, self.sport, self.cs, self.ss, 0x18,
                   data, self.cm, self.sm)
        self.cs += len(data)

    def s(self, t, data):
        self.p.tcp(t, self.srv, self.cli, self.sport, self.cport, self.ss, self.cs, 0x18,
                   data, self.sm, self.cm)
        self.ss += len(data)


def dnp3(path, t0, seed, duration, attack):
    gc.T0 = t0
    rng = random.Random(seed)
    p = gc.Pcap(path)
    m, o = '10.60.0.1', '10.60.0.10'
    s = Tcp(p, 0.5, m, o, 50100, 20000, gc.mac(0x61), gc.mac(0x6a))
    analogs = [rng.randrange(-5000, 20000) for _ in range(4)]
    counters = [rng.randrange(0, 100000) for _ in range(2)]
    aseq, tm, to = rng.randrange(16), rng.randrange(64), rng.randrange(64)
    writes, answers = {}, []
    for i in range(duration):
        t = 1.0 + i + rng.random() * 0.02
        if i % 10 == 0:                              # the master writes the time
            aseq, tm = (aseq + 1) & 15, (tm + 1) & 63
            ms = int((t0 + t) * 1000)
            req = dnp3_frame(0xC4, 10, 1, bytes((0xC0 | tm, 0xC0 | aseq, 0x02))
                             + b'\x32\x01\x07\x01' + t48(ms))
            writes[i] = req
            s.c(t, req)
            to = (to + 1) & 63
            s.s(t + 0.005, dnp3_frame(0x44, 1, 10, bytes((0xC0 | to, 0xC0 | aseq, 0x81, 0, 0))))
            t += 0.2
        aseq, tm = (aseq + 1) & 15, (tm + 1) & 63
        s.c(t, dnp3_frame(0xC4, 10, 1, bytes((0xC0 | tm, 0xC0 | aseq, 0x01)) + b'\x3c\x01\x06'))
        for k in range(4):
            analogs[k] += rng.randint(-10, 10)
        for k in range(2):
            counters[k] += rng.randint(0, 5)
        shown = list(analogs)
        if attack and i == 39:
            shown[2] += 5000
        objs = (b'\x33\x01\x07\x01' + t48(int((t0 + t) * 1000))
                + b'\x1e\x01\x00\x00\x03' + b''.join(struct.pack('<Bi', 1, v) for v in shown)
                + b'\x14\x01\x00\x00\x01' + b''.join(struct.pack('<BI', 1, v) for v in counters))
        to = (to + 1) & 63
        rsp = dnp3_frame(0x44, 1, 10, bytes((0xC0 | to, 0xC0 | aseq, 0x81, 0, 0)) + objs)
        answers.append(rsp)
        s.s(t + 0.008, rsp)
        if attack and i == 70:
            s.c(t + 0.5, writes[0])                  # the write of t=1 s again
        if attack and i == 140:
            s.s(t + 0.5, answers[-71])               # an answer of 70 polls ago
    p.f.close()


def iec104(path, t0, seed, duration, attack):
    gc.T0 = t0
    rng = random.Random(seed)
    p = gc.Pcap(path)
    m, r = '10.61.0.1', '10.61.0.10'
    s = Tcp(p, 0.5, m, r, 50200, 2404, gc.mac(0x71), gc.mac(0x7a))
    s.c(0.6, bytes((0x68, 4, 0x07, 0, 0, 0)))
    s.s(0.61, bytes((0x68, 4, 0x0B, 0, 0, 0)))
    vals = [rng.uniform(10, 300) for _ in range(4)]
    count = rng.randrange(1000, 50000)
    ns = 0
    for i in range(duration):
        t = 1.0 + i + rng.random() * 0.02
        for k in range(4):
            vals[k] += rng.uniform(-0.5, 0.5)
        shown = list(vals)
        if attack and i == 49:
            shown[1] += 300
        objs = b''.join(struct.pack('<I', 100 + k)[:3] + struct.pack('<fB', v, 0)
                        for k, v in enumerate(shown))
        asdu = struct.pack('<BBBBH', 13, 4, 1, 0, 7) + objs
        s.s(t, struct.pack('<BBHH', 0x68, 4 + len(asdu), ns << 1, 0) + asdu)
        ns += 1
        count += rng.randint(0, 3)
        c = count - 1000 if attack and i == 79 else count
        asdu = (struct.pack('<BBBBH', 15, 1, 3, 0, 7) + struct.pack('<I', 200)[:3]
                + struct.pack('<iB', c, i & 0x1F))
        s.s(t + 0.01, struct.pack('<BBHH', 0x68, 4 + len(asdu), ns << 1, 0) + asdu)
        ns += 1
        if i % 4 == 3:
            s.c(t + 0.2, struct.pack('<BBHH', 0x68, 4, 1, ns << 1))
    p.f.close()


if __name__ == '__main__':
    out = sys.argv[1]
    dnp3(os.path.join(out, 'dnp3-benign.pcap'), T_BENIGN, 11, 200, False)
    dnp3(os.path.join(out, 'dnp3-attack.pcap'), T_ATTACK, 12, 150, True)
    iec104(os.path.join(out, 'iec104-benign.pcap'), T_BENIGN, 21, 200, False)
    iec104(os.path.join(out, 'iec104-attack.pcap'), T_ATTACK, 22, 150, True)
