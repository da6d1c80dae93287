#!/usr/bin/env python3
"""gen_missing.py IN.pcap OUTDIR CLIENT SERVER T: variants of a benign
capture (Ethernet, IPv4, Modbus/TCP on 502) for cycle.missing_poll
(tests/check_chanmodel.c).  CLIENT polls SERVER with fc 3 and fc 4 in one
session and polls other servers too; from T seconds after the first packet:

  request.pcap   CLIENT's fc 4 requests to SERVER and their answers are
                 gone, the fc 3 polls of the same loop go on (a poll
                 missing: must raise);
  answers.pcap   SERVER's packets to CLIENT are gone, CLIENT keeps polling
                 (the server stopped answering: must raise);
  channel.pcap   every packet between CLIENT and SERVER is gone, the
                 session never closed, CLIENT polls the others (the channel
                 silent: must raise);
  reset.pcap     CLIENT resets the session (RST) at T and never comes back
                 to SERVER, polling the others (the channel ended: silent);
  gone.pcap      every packet to or from CLIENT is gone (the client went
                 away: silent);
  end.pcap       the capture ends at T (silent).

TCP sequence and acknowledgment numbers are renumbered over removed
segments so that the streams stay contiguous.
"""
import os
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def read_pcap(path):
    with open(path, 'rb') as f:
        data = f.read()
    hdr, pos, out = data[:24], 24, []
    while pos + 16 <= len(data):
        ts, us, incl, orig = struct.unpack('<IIII', data[pos:pos + 16])
        out.append([ts + us / 1e6, data[pos + 16:pos + 16 + incl], (ts, us, orig)])
        pos += 16 + incl
    return hdr, out


def write_pcap(path, hdr, pkts):
    with open(path, 'wb') as f:
        f.write(hdr)
        for _, frame, (ts, us, orig) in pkts:
            f.write(struct.pack('<IIII', ts, us, len(frame), len(frame)) + frame)


def parse(frame):
    """(src, dst, sport, dport, seq, ack, flags, payload, ihl_off, tcp_off) or None"""
    if len(frame) < 54 or frame[12:14] != b'\x08\x00' or frame[23] != 6:
        return None
    ihl = (frame[14] & 15) * 4
    tot = struct.unpack('!H', frame[16:18])[0]
    t = 14 + ihl
    sport, dport, seq, ack, off = struct.unpack('!HHIIB', frame[t:t + 13])
    doff = (off >> 4) * 4
    return (frame[26:30], frame[30:34], sport, dport, seq, ack, frame[t + 13],
            frame[t + doff:14 + tot], t)


def rebuild(frame, t, seq, ack, flags=None, payload=None):
    """frame with new seq/ack (flags, payload), checksums recomputed"""
    ihl = (frame[14] & 15) * 4
    tot = struct.unpack('!H', frame[16:18])[0]
    doff = (frame[t + 12] >> 4) * 4
    tcp = bytearray(frame[t:t + doff])
    body = frame[t + doff:14 + tot] if payload is None else payload
    struct.pack_into('!II', tcp, 4, seq & 0xffffffff, ack & 0xffffffff)
    if flags is not None:
        tcp[13] = flags
    tcp[16:18] = b'\0\0'
    ip = bytearray(frame[14:14 + ihl])
    struct.pack_into('!H', ip, 2, ihl + len(tcp) + len(body))
    ip[10:12] = b'\0\0'
    ip[10:12] = struct.pack('!H', csum(bytes(ip)))
    pseudo = ip[12:20] + struct.pack('!BBH', 0, 6, len(tcp) + len(body))
    tcp[16:18] = struct.pack('!H', csum(bytes(pseudo) + bytes(tcp) + body))
    out = frame[:14] + bytes(ip) + bytes(tcp) + body
    return out + b'\0' * max(0, 60 - len(out))


def variant(pkts, cli, srv, t_cut, drop, reset=False):
    """keep what drop(p, parsed, from_cli) refuses, renumbering TCP"""
    t0 = pkts[0][0]
    off = {}           # (src, sport, dst, dport) -> bytes removed that way
    out, did_reset = [], False
    for ts, frame, meta in pkts:
        p = parse(frame)
        if ts - t0 < t_cut or p is None:
            if ts - t0 >= t_cut and drop(frame, None, None):
                continue
            out.append([ts, frame, meta])
            continue
        src, dst, sport, dport, seq, ack, flags, payload, t = p
        chan = {src, dst} == {cli, srv} and 502 in (sport, dport)
        from_cli = src == cli
        if reset and chan:
            if not did_reset and from_cli:
                did_reset = True
                f = rebuild(frame, t, seq - off.get((src, sport, dst, dport), 0), 0,
                            0x04, b'')
                out.append([ts, f, meta])
            continue
        if drop(frame, p, from_cli):
            if payload:
                k = (src, sport, dst, dport)
                off[k] = off.get(k, 0) + len(payload)
            continue
        so = off.get((src, sport, dst, dport), 0)
        ao = off.get((dst, dport, src, sport), 0)
        if so or ao:
            frame = rebuild(frame, t, seq - so, ack - ao)
        out.append([ts, frame, meta])
    return out


def main():
    src, outdir, cli, srv, t_cut = sys.argv[1:6]
    cli = bytes(int(x) for x in cli.split('.'))
    srv = bytes(int(x) for x in srv.split('.'))
    t_cut = float(t_cut)
    hdr, pkts = read_pcap(src)

    def on_chan(p):
        return p is not None and {p[0], p[1]} == {cli, srv} and 502 in (p[2], p[3])

    def fc4(p, from_cli):
        # the fc 4 requests and their answers (one ADU per segment here)
        return on_chan(p) and len(p[7]) >= 8 and p[7][7] == 4

    def answers(p, from_cli):
        return on_chan(p) and not from_cli

    def channel(p, from_cli):
        return on_chan(p)

    def gone(frame, p):
        if p is not None:
            return cli in (p[0], p[1])
        # ARP and others: the client's MAC or IP anywhere
        return cli in frame[14:] and frame[12:14] in (b'\x08\x00', b'\x08\x06')

    os.makedirs(outdir, exist_ok=True)
    cases = {
        'request': lambda f, p, c: p is not None and fc4(p, c),
        'answers': lambda f, p, c: p is not None and answers(p, c),
        'channel': lambda f, p, c: p is not None and channel(p, c),
        'gone': lambda f, p, c: gone(f, p),
    }
    for name, fn in cases.items():
        write_pcap(os.path.join(outdir, name + '.pcap'), hdr,
                   variant(pkts, cli, srv, t_cut, fn))
    write_pcap(os.path.join(outdir, 'reset.pcap'), hdr,
               variant(pkts, cli, srv, t_cut, lambda f, p, c: False, reset=True))
    write_pcap(os.path.join(outdir, 'end.pcap'), hdr,
               [p for p in pkts if p[0] - pkts[0][0] < t_cut])


if __name__ == '__main__':
    main()
