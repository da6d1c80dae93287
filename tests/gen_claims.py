#!/usr/bin/env python3
"""gen_claims.py OUTDIR: two small labeled captures for tests/check_chanmodel.c.

bacnet-iam.pcap (BACnet/IP, UDP 47808, Original-Broadcast-NPDU I-Am):
  device 1001 announced by 10.20.0.10 every 60 s; at t=90 s 10.20.0.66
  announces 1001 too (a conflict: 10.20.0.10 announced it 30 s before);
  device 2002 announced by 10.20.0.11 until t=120 s, then from t=900 s by
  10.20.0.12 (it moved: the old address was silent for longer than the
  600 s window); devices 3003 and 3004 relayed by router 10.20.0.1 from
  network 5, MAC 0x21 and 0x22 (one router, two devices: no conflict).
enip-sessions.pcap (EtherNet/IP, TCP 44818): 10.30.0.5 registers one
  session with 10.30.0.10 and keeps it; from t=10 s 10.30.0.66 opens 25
  connections to 10.30.0.10 in 5 s, each with a RegisterSession (a
  flood); from t=30 s it registers one session with each of 10.30.0.20 ..
  10.30.0.29 (a scan of 10 devices).
modbus-writes.pcap (Modbus/TCP, 502): 10.40.0.5 refreshes holding register
  10 of 10.40.0.10 with the same value 30 times in 6 s (an HMI keeping a
  setpoint: not brute force); 10.40.0.6 toggles coil 3 of 10.40.0.10 on
  and off 30 times in 6 s (brute force I/O).
modbus-polls.pcap (Modbus/TCP, 502): 10.40.0.7 polls 40 register blocks
  of 10.40.0.11 (fc 3, 0-399 in blocks of 10) every 20 s for 300 s: a
  long poll list, not an address sweep after its first cycle.
mms-continuation.pcap (ISO-on-TCP, 102): an IEC 61850 server sends its
  client reports as one TSDU in two COTP DT TPDUs, the first without EOT;
  the second starts in the middle of the report with a byte that reads as
  the S7comm protocol id (0x32).
"""
import os
import struct
import sys

T0 = 1733385600  # 2024-12-05T08:00:00Z


def mac(n):
    return bytes([0x00, 0x10, 0x20, 0x30, 0x40, n])


def ip4(s):
    return bytes(int(x) for x in s.split('.'))


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, ident):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                    ip4(src), ip4(dst))
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def eth(smac, dmac, pkt):
    return dmac + smac + b'\x08\x00' + pkt


class Pcap:
    def __init__(self, path):
        self.f = open(path, 'wb')
        self.f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.ident = 1

    def add(self, t, frame):
        if len(frame) < 60:
            frame += b'\0' * (60 - len(frame))
        self.f.write(struct.pack('<IIII', T0 + int(t), int(round((t % 1) * 1e6)),
                                 len(frame), len(frame)) + frame)

    def udp(self, t, src, dst, sport, dport, data, smac, dmac):
        u = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
        self.ident += 1
        self.add(t, eth(smac, dmac, ipv4(src, dst, 17, u, self.ident)))

    def tcp(self, t, src, dst, sport, dport, seq, ack, flags, data, smac, dmac):
        h = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 8192, 0, 0)
        self.ident += 1
        self.add(t, eth(smac, dmac, ipv4(src, dst, 6, h + data, self.ident)))


def iam(instance, snet=None, sadr=None):
    apdu = (b'\x10\x00' + b'\xc4' + struct.pack('!I', (8 << 22) | instance) +
            b'\x22\x05\xc4' + b'\x91\x00' + b'\x21\x0f')
    if snet is None:
        npdu = b'\x01\x00'
    else:
        npdu = b'\x01\x08' + struct.pack('!HB', snet, len(sadr)) + sadr
    body = npdu + apdu
    return struct.pack('!BBH', 0x81, 0x0b, 4 + len(body)) + body


def bacnet(path):
    p = Pcap(path)
    bc = b'\xff' * 6
    ev = []
    for t in range(0, 301, 60):
        ev.append((t, '10.20.0.10', 10, iam(1001)))
    ev.append((90.0, '10.20.0.66', 66, iam(1001)))
    for t in range(0, 121, 60):
        ev.append((t + 1, '10.20.0.11', 11, iam(2002)))
    for t in range(900, 1021, 60):
        ev.append((t + 1, '10.20.0.12', 12, iam(2002)))
    for t in range(0, 301, 60):
        ev.append((t + 2, '10.20.0.1', 1, iam(3003, 5, b'\x21')))
        ev.append((t + 2.5, '10.20.0.1', 1, iam(3004, 5, b'\x22')))
    for t, src, m, data in sorted(ev, key=lambda e: e[0]):
        p.udp(t, src, '10.20.0.255', 47808, 47808, data, mac(m), bc)


def encap(cmd, session, data):
    return struct.pack('<HHII8sI', cmd, len(data), session, 0, b'ctx00001', 0) + data


def session(p, t, cli, srv, cport, cm, sm, keep=False):
    cs, ss = 1000 + cport * 7, 5000 + cport * 11
    p.tcp(t, cli, srv, cport, 44818, cs, 0, 0x02, b'', cm, sm)
    p.tcp(t + 0.001, srv, cli, 44818, cport, ss, cs + 1, 0x12, b'', sm, cm)
    p.tcp(t + 0.002, cli, srv, cport, 44818, cs + 1, ss + 1, 0x10, b'', cm, sm)
    req = encap(0x65, 0, struct.pack('<HH', 1, 0))
    p.tcp(t + 0.003, cli, srv, cport, 44818, cs + 1, ss + 1, 0x18, req, cm, sm)
    rsp = encap(0x65, 0x1000 + cport, struct.pack('<HH', 1, 0))
    p.tcp(t + 0.005, srv, cli, 44818, cport, ss + 1, cs + 1 + len(req), 0x18, rsp, sm, cm)
    if not keep:
        p.tcp(t + 0.006, cli, srv, cport, 44818, cs + 1 + len(req), ss + 1 + len(rsp), 0x11,
              b'', cm, sm)
        p.tcp(t + 0.007, srv, cli, 44818, cport, ss + 1 + len(rsp), cs + 2 + len(req), 0x11,
              b'', sm, cm)


def enip(path):
    p = Pcap(path)
    session(p, 1.0, '10.30.0.5', '10.30.0.10', 50000, mac(5), mac(10), keep=True)
    for i in range(25):
        session(p, 10.0 + i * 0.2, '10.30.0.66', '10.30.0.10', 40000 + i, mac(66), mac(10))
    for i in range(10):
        session(p, 30.0 + i * 0.3, '10.30.0.66', '10.30.0.%d' % (20 + i), 41000 + i,
                mac(66), mac(20 + i))


def tcp_conv(p, t, cli, srv, cport, sport, cm, sm, exchanges):
    """A connection with (delay, request, response) exchanges, then FIN."""
    cs, ss = 2000 + cport, 9000 + cport
    p.tcp(t, cli, srv, cport, sport, cs, 0, 0x02, b'', cm, sm)
    p.tcp(t + 0.001, srv, cli, sport, cport, ss, cs + 1, 0x12, b'', sm, cm)
    p.tcp(t + 0.002, cli, srv, cport, sport, cs + 1, ss + 1, 0x10, b'', cm, sm)
    cs, ss, t = cs + 1, ss + 1, t + 0.002
    for dt, req, rsp in exchanges:
        t += dt
        p.tcp(t, cli, srv, cport, sport, cs, ss, 0x18, req, cm, sm)
        cs += len(req)
        p.tcp(t + 0.004, srv, cli, sport, cport, ss, cs, 0x18, rsp, sm, cm)
        ss += len(rsp)
    p.tcp(t + 0.01, cli, srv, cport, sport, cs, ss, 0x11, b'', cm, sm)
    p.tcp(t + 0.011, srv, cli, sport, cport, ss, cs + 1, 0x11, b'', sm, cm)


def mbap(tid, pdu):
    return struct.pack('>HHHB', tid, 0, len(pdu) + 1, 1) + pdu


def modbus(path):
    p = Pcap(path)
    ref = [(0.2, mbap(i, struct.pack('>BHH', 6, 10, 1500)),
            mbap(i, struct.pack('>BHH', 6, 10, 1500))) for i in range(30)]
    tog = [(0.2, mbap(i, struct.pack('>BHH', 5, 3, 0xff00 if i % 2 == 0 else 0)),
            mbap(i, struct.pack('>BHH', 5, 3, 0xff00 if i % 2 == 0 else 0)))
           for i in range(30)]
    tcp_conv(p, 1.0, '10.40.0.5', '10.40.0.10', 51000, 502, mac(5), mac(10), ref)
    tcp_conv(p, 20.0, '10.40.0.6', '10.40.0.10', 51001, 502, mac(6), mac(10), tog)


def tpkt(cotp_and_data):
    return struct.pack('>BBH', 3, 0, 4 + len(cotp_and_data)) + cotp_and_data


def polls(path):
    p = Pcap(path)
    ex, tid = [], 0
    for cycle in range(15):
        for blk in range(40):
            tid += 1
            req = mbap(tid, struct.pack('>BHH', 3, blk * 10, 10))
            rsp = mbap(tid, struct.pack('>BB', 3, 20) + bytes(20))
            ex.append((20.0 - 39 * 0.05 if blk == 0 and cycle > 0 else 0.05, req, rsp))
    tcp_conv(p, 1.0, '10.40.0.7', '10.40.0.11', 51002, 502, mac(7), mac(11), ex)


def mms(path):
    p = Pcap(path)
    cr = tpkt(b'\x11\xe0\x00\x00\x00\x01\x00\xc1\x02\x00\x01\xc2\x02\x00\x01\xc0\x01\x0a')
    cc = tpkt(b'\x11\xd0\x00\x01\x00\x02\x00\xc1\x02\x00\x01\xc2\x02\x00\x01\xc0\x01\x0a')
    # OSI session Give-Tokens + Data-Transfer, presentation, then the
    # start of an MMS unconfirmed report
    first = tpkt(b'\x02\xf0\x00' + b'\x01\x00\x01\x00' + b'\x61\x82\x01\x00\x30\x82\x00\xfc'
                 + b'\x02\x01\x03\xa0\x82\x00\xf5\xa3\x82\x00\xf1' + bytes(range(40)))
    rest = tpkt(b'\x02\xf0\x80' + b'\x32\x07\x00\x00\x11\x22' + bytes(range(60, 120)))
    ex = [(0.1, cr, cc)]
    for i in range(5):
        ex.append((1.0, tpkt(b'\x02\xf0\x80'), first + rest))
    tcp_conv(p, 1.0, '10.50.0.5', '10.50.0.10', 52000, 102, mac(5), mac(10), ex)


if __name__ == '__main__':
    out = sys.argv[1]
    bacnet(os.path.join(out, 'bacnet-iam.pcap'))
    enip(os.path.join(out, 'enip-sessions.pcap'))
    modbus(os.path.join(out, 'modbus-writes.pcap'))
    mms(os.path.join(out, 'mms-continuation.pcap'))
    polls(os.path.join(out, 'modbus-polls.pcap'))
