#!/usr/bin/env python3
"""Writes tests/regress/baseline-asset-table-growth.pcap (see check_robust):

    python3 tests/regress/gen_asset_growth.py tests/regress/baseline-asset-table-growth.pcap
"""
import struct, sys

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ip4(a): return bytes(int(x) for x in a.split('.'))

def pkt(smac, dmac, sip, dip, sport, dport, seq, ack, flags):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    ph = ip4(sip) + ip4(dip) + struct.pack('!BBH', 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', csum(ph + tcp)) + tcp[18:]
    iph = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, ip4(sip), ip4(dip))
    iph = iph[:10] + struct.pack('!H', csum(iph)) + iph[12:]
    return dmac + smac + b'\x08\x00' + iph + tcp

def mac(n): return bytes([2, 0, 0, 0, n >> 8, n & 0xff])

out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
t = 1764806400
# client 10.0.0.1 talks to two servers, then every flow brings a new
# client and a new server: the count of assets before each flow is odd,
# so the table's growth (64, 128) happens when the SERVER is added.
flows = [(1, 1), (1, 2)] + [(k, k + 1) for k in range(2, 40)]
SYN, ACK, PSH, FIN, RST = 2, 16, 8, 1, 4
for c, s in flows:
    cip, sip = '10.0.%d.%d' % (c >> 8, c & 0xff), '10.1.%d.%d' % (s >> 8, s & 0xff)
    cm, sm = mac(c), mac(0x8000 | s)
    sp = 40000 + c
    seq = [(cm, sm, cip, sip, sp, 22, 100, 0, SYN),
           (sm, cm, sip, cip, 22, sp, 500, 101, SYN | ACK),
           (cm, sm, cip, sip, sp, 22, 101, 501, ACK),
           (cm, sm, cip, sip, sp, 22, 101, 501, FIN | ACK),
           (sm, cm, sip, cip, 22, sp, 501, 102, FIN | ACK),
           (cm, sm, cip, sip, sp, 22, 102, 502, ACK)]
    for i, p in enumerate(seq):
        b = pkt(*p)
        out.write(struct.pack('<IIII', t, i * 1000, len(b), len(b)) + b)
    t += 310  # past tcp_timeout (300 s): each flow ends before the next
out.close()
