#!/usr/bin/env python3
"""gen_captures.py - captures that attack the agent's own state (issue 19).

    python3 tests/robust/gen_captures.py --out DIR [--flows N] [--small]

Writes classic pcap files (Ethernet, microsecond stamps) into DIR:

  seq-behind-2p31.pcap    Modbus/TCP: a segment exactly 2^31 behind the
                          expected sequence number (the INT32_MIN negation
                          that UBSan caught in tcp_segment before d7ecadd)
  seq-behind-2p31m1.pcap  ... 2^31 - 1 behind (old data: dropped)
  seq-behind-2p31p1.pcap  ... 2^31 + 1 behind = 2^31 - 1 ahead (a gap)
  seq-wrap.pcap           a flow whose sequence numbers wrap past
                          0xffffffff, with a PDU split across the wrap,
                          a retransmission and an overlap across it
  flows.pcap              N distinct UDP flows (default 1,000,000), one
                          packet each, to a Modbus-looking port
  modbus-points.pcap      one client writing 100,000 distinct Modbus
                          points (unit x address, every other register)
                          on one server
  dnp3-links.pcap         10,000 DNP3 link addresses on one TCP session
  reasm-holes.pcap        N TCP Modbus flows (default 20,000) that each
                          leave the first bytes of a PDU buffered and
                          never finish it (a reassembly hole per flow)

tests/check_robust.c replays them and asserts the counts given in the
comments below.  --small writes only the four sequence captures (a few
hundred bytes each: fuzz seeds).

Standard library only; deterministic (no clock, no randomness).
"""

import argparse
import os
import struct
import sys

CLI_MAC = bytes.fromhex("020000000042")
SRV_MAC = bytes.fromhex("020000000010")
CLI_IP = bytes([10, 9, 0, 66])
SRV_IP = bytes([10, 9, 0, 10])
T0 = 1764806400  # 2025-12-04 00:00:00 UTC: a fixed capture clock

ACK = 0x10
PSH = 0x08
SYN = 0x02


class Pcap:
    """A classic pcap writer, microsecond stamps, Ethernet link type."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0,
                                 65535, 1))
        self.n = 0
        self.us = 0

    def add(self, frame, step_us=1000):
        self.us += step_us
        sec, usec = divmod(self.us, 1000000)
        self.f.write(struct.pack("<IIII", T0 + sec, usec, len(frame),
                                 len(frame)))
        self.f.write(frame)
        self.n += 1

    def close(self):
        self.f.close()


def ipv4(src, dst, proto, payload, ident=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                      0x4000, 64, proto, 0, src, dst)
    return hdr + payload


def eth(src_mac, dst_mac, ip):
    return dst_mac + src_mac + b"\x08\x00" + ip


def tcp(sip, dip, sport, dport, seq, ack, flags, payload=b"",
        smac=CLI_MAC, dmac=SRV_MAC):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                      ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0) + payload
    return eth(smac, dmac, ipv4(sip, dip, 6, seg))


def udp(sip, dip, sport, dport, payload, smac=CLI_MAC, dmac=SRV_MAC):
    dg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return eth(smac, dmac, ipv4(sip, dip, 17, dg))


def mbap(tid, unit, pdu):
    return struct.pack("!HHHB", tid & 0xFFFF, 0, len(pdu) + 1, unit) + pdu


def mb_read(tid, addr=0, qty=1, unit=1):
    """A 12-byte Modbus/TCP request: read holding registers."""
    return mbap(tid, unit, struct.pack("!BHH", 3, addr, qty))


def mb_write(tid, unit, addr, value):
    """A 12-byte Modbus/TCP request: write single register."""
    return mbap(tid, unit, struct.pack("!BHH", 6, addr & 0xFFFF, value))


# ---- DNP3 ---------------------------------------------------------------

def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA6BC if c & 1 else c >> 1
        t.append(c)
    return t


CRC_T = _crc_table()


def dnp3_crc(b):
    c = 0
    for x in b:
        c = (c >> 8) ^ CRC_T[(c ^ x) & 0xFF]
    return struct.pack("<H", ~c & 0xFFFF)


def dnp3_frame(dst, src, user):
    """A link frame from the master (DIR|PRM, unconfirmed user data)."""
    hdr = struct.pack("<BBBBHH", 0x05, 0x64, 5 + len(user), 0xC4, dst, src)
    out = hdr + dnp3_crc(hdr)
    for i in range(0, len(user), 16):
        blk = user[i:i + 16]
        out += blk + dnp3_crc(blk)
    return out


def dnp3_read(seq):
    """Transport FIR|FIN + application READ class 0 (group 60 var 1)."""
    return dnp3_frame_user(seq, bytes([0xC0 | (seq & 0x0F), 0x01,
                                       60, 1, 0x06]))


def dnp3_frame_user(seq, app):
    return bytes([0xC0 | (seq & 0x3F)]) + app


# ---- the captures ------------------------------------------------------

class Session:
    """One client -> server TCP session with hand-picked sequence numbers."""

    def __init__(self, pc, sport=40000, dport=502):
        self.pc = pc
        self.sport = sport
        self.dport = dport

    def c2s(self, seq, payload, flags=ACK | PSH):
        self.pc.add(tcp(CLI_IP, SRV_IP, self.sport, self.dport, seq, 1,
                        flags, payload))


def seq_capture(path, behind):
    """
    Two requests in order, then one whose sequence number is `behind`
    bytes behind the expected one, then one more request in order.
    """
    pc = Pcap(path)
    s = Session(pc)
    seq = 1000
    s.c2s(seq, mb_read(1))
    s.c2s(seq + 12, mb_read(2))
    expect = seq + 24
    s.c2s(expect - behind, mb_read(3))
    s.c2s(expect, mb_read(4))
    pc.close()
    if behind <= 0x80000000:
        # 2^31 or 2^31-1 behind: "ahead" >= 2^31, so old data, dropped;
        # the request in order after it is parsed
        return dict(packets=4, pdus=3, gaps=0)
    # 2^31+1 behind is 2^31-1 ahead: a gap; the segment starts with a
    # valid header so it is parsed; the one "in order" after it is then
    # 2^31-11 ahead of the new expectation: a second gap, parsed too
    return dict(packets=4, pdus=4, gaps=2)


def seq_wrap(path):
    pc = Pcap(path)
    s = Session(pc, sport=40001)
    seq = 0xFFFFFFE8
    s.c2s(seq, mb_read(1))                 # ..0xfffffff3        pdu 1
    s.c2s(seq + 12, mb_read(2))            # ..0xffffffff        pdu 2
    req = mb_read(3)
    s.c2s(0x0, req[:7])                    # wrapped: split PDU
    s.c2s(0x7, req[7:])                    #                     pdu 3
    s.c2s(0xFFFFFFF4, mb_read(2) + req)    # retransmission across the wrap
    s.c2s(0x7, req[7:] + mb_read(4))       # overlap: only pdu 4 is new
    s.c2s(0xFFFFFFFC, b"\x00" * 4)         # old bytes ending at the wrap
    s.c2s(0x18, mb_read(5))                #                     pdu 5
    pc.close()
    return dict(packets=8, pdus=5, gaps=0)


def flows(path, n):
    pc = Pcap(path)
    body = b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x01"
    for i in range(n):
        sip = bytes([10, 64 + (i >> 16 & 0x3F), i >> 8 & 0xFF, i & 0xFF])
        pc.add(udp(sip, SRV_IP, 1024 + (i % 50000), 5020, body), 10)
    pc.close()
    return dict(packets=n, flows=n)


def modbus_points(path, n=100000):
    pc = Pcap(path)
    s = Session(pc, sport=40002)
    seq = 1
    pc.add(tcp(CLI_IP, SRV_IP, 40002, 502, 0, 0, SYN))
    for i in range(n):
        # every other register, so no two writes merge into one range
        unit = 1 + i // 32768
        s.c2s(seq, mb_write(i, unit, 2 * i & 0xFFFF, i & 0xFFFF))
        seq += 12
    pc.close()
    return dict(packets=n + 1, pdus=n)


def dnp3_links(path, n=10000):
    pc = Pcap(path)
    s = Session(pc, sport=40003, dport=20000)
    seq = 1
    pc.add(tcp(CLI_IP, SRV_IP, 40003, 20000, 0, 0, SYN))
    for i in range(n):
        fr = dnp3_frame(i, 0xFFF0 - i, dnp3_read(i))
        s.c2s(seq, fr)
        seq += len(fr)
    pc.close()
    return dict(packets=n + 1, pdus=n)


def reasm_holes(path, n):
    """Each flow: a Modbus header announcing 254 bytes, only 100 sent."""
    pc = Pcap(path)
    head = struct.pack("!HHHB", 7, 0, 254, 1) + bytes([16]) + b"\x00" * 93
    for i in range(n):
        sip = bytes([10, 128 + (i >> 16 & 0x3F), i >> 8 & 0xFF, i & 0xFF])
        sport = 1024 + (i % 60000)
        pc.add(tcp(sip, SRV_IP, sport, 502, 0, 0, SYN), 10)
        pc.add(tcp(sip, SRV_IP, sport, 502, 1, 1, ACK | PSH, head), 10)
    pc.close()
    return dict(packets=2 * n, flows=n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--flows", type=int, default=1000000)
    ap.add_argument("--holes", type=int, default=20000)
    ap.add_argument("--small", action="store_true",
                    help="only the sequence-number captures")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    def out(name):
        return os.path.join(a.out, name)

    for name, behind in (("seq-behind-2p31", 0x80000000),
                         ("seq-behind-2p31m1", 0x7FFFFFFF),
                         ("seq-behind-2p31p1", 0x80000001)):
        seq_capture(out(name + ".pcap"), behind)
    seq_wrap(out("seq-wrap.pcap"))
    if a.small:
        return 0
    flows(out("flows.pcap"), a.flows)
    modbus_points(out("modbus-points.pcap"))
    dnp3_links(out("dnp3-links.pcap"))
    reasm_holes(out("reasm-holes.pcap"), a.holes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
