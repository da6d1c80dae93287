#!/usr/bin/env python3
"""seed.py - build a libFuzzer seed corpus from the shared ICS captures.

Reads every classic pcap and pcapng file in a directory (Ethernet, 802.1Q,
Linux SLL/SLL2, BSD loopback/NULL and raw IPv4/IPv6 link types), pulls out
the TCP/UDP payloads whose source or destination port belongs to the
protocol asked for, and writes each distinct payload as one seed file.
Standard library only, so `make fuzz` needs nothing beyond python3.

    seed.py --pcaps DIR --proto modbus --out CORPUS_DIR [--max 300]
    seed.py --pcaps DIR --proto dnp3 --list          # print payloads as hex
"""

import argparse
import hashlib
import os
import struct
import sys

# Protocol -> (tcp ports, udp ports).  Ports only pick candidate payloads;
# the fuzzer itself sees every byte, valid or not.
PORTS = {
    'modbus': ({502}, set()),
    'dnp3': ({20000}, {20000}),
    's7comm': ({102}, set()),
    'iec104': ({2404}, set()),
    'enip': ({44818}, {44818}),
    'bacnet': (set(), {47808, 47809}),
    'opcua': ({4840, 4841, 4842, 4843, 48010, 48020, 53530, 62541}, set()),
    'fins': ({9600}, {9600}),
    'hartip': ({5094}, {5094, 5095}),
    'mms': ({102}, set()),
    'mqtt': ({1883, 17501}, set()),
    'goose': (set(), set()),
    'pndcp': (set(), set()),
}

# Layer-2 protocols: the EtherTypes whose frames seed them (the bytes after
# the EtherType and any VLAN tags, as the agent's decoder hands them over).
ETHERTYPES = {
    'goose': {0x88B8, 0x88BA},          # GOOSE and SV share the target
    'pndcp': {0x8892, 0x88CC},          # PROFINET DCP and LLDP
}

# OPC UA servers listen on all sorts of ports; accept any TCP payload that
# opens with an OPC UA message type as well.
OPCUA_TYPES = (b'HEL', b'ACK', b'OPN', b'MSG', b'CLO', b'ERR', b'RHE')

LINK_NULL, LINK_ETHER, LINK_RAW, LINK_LOOP = 0, 1, 101, 108
LINK_SLL, LINK_IPV4, LINK_IPV6, LINK_SLL2 = 113, 228, 229, 276


def read_pcap(data):
    """Yield (linktype, frame) for a classic pcap file held in data."""
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        end = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        end = '>'
    else:
        return
    if len(data) < 24:
        return
    linktype = struct.unpack(end + 'I', data[20:24])[0] & 0x0FFFFFFF
    off = 24
    rec = struct.Struct(end + 'IIII')
    while off + 16 <= len(data):
        _, _, caplen, _ = rec.unpack_from(data, off)
        off += 16
        if caplen > len(data) - off:
            break
        yield linktype, data[off:off + caplen]
        off += caplen


def read_pcapng(data):
    """Yield (linktype, frame) for a pcapng file held in data."""
    off, end, links = 0, '<', []
    while off + 12 <= len(data):
        btype = struct.unpack_from(end + 'I', data, off)[0]
        if btype == 0x0A0D0D0A:                       # section header block
            bom = data[off + 8:off + 12]
            end = '<' if bom == b'\x4d\x3c\x2b\x1a' else '>'
            links = []
        blen = struct.unpack_from(end + 'I', data, off + 4)[0]
        if blen < 12 or blen > len(data) - off:
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 2:             # interface description
            links.append(struct.unpack_from(end + 'H', body, 0)[0])
        elif btype == 6 and len(body) >= 20:          # enhanced packet
            ifid, _, _, caplen = struct.unpack_from(end + 'IIII', body, 0)
            if ifid < len(links):
                yield links[ifid], body[20:20 + caplen]
        elif btype == 3 and len(body) >= 4 and links:  # simple packet
            yield links[0], body[4:]
        elif btype == 2 and len(body) >= 20:          # obsolete packet block
            ifid, _, _, _, caplen = struct.unpack_from(end + 'HHIII', body, 0)
            if ifid < len(links):
                yield links[ifid], body[20:20 + caplen]
        off += blen


def read_capture(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] == b'\x0a\x0d\x0d\x0a':
        return read_pcapng(data)
    return read_pcap(data)


def l3_of(linktype, frame):
    """Return (ethertype, bytes after the link header) or None."""
    if linktype == LINK_ETHER:
        if len(frame) < 14:
            return None
        etype, off = struct.unpack_from('>H', frame, 12)[0], 14
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype, off = struct.unpack_from('>H', frame, off + 2)[0], off + 4
        return etype, frame[off:]
    if linktype == LINK_SLL:
        if len(frame) < 16:
            return None
        return struct.unpack_from('>H', frame, 14)[0], frame[16:]
    if linktype == LINK_SLL2:
        if len(frame) < 20:
            return None
        return struct.unpack_from('>H', frame, 0)[0], frame[20:]
    if linktype in (LINK_NULL, LINK_LOOP):
        if len(frame) < 4:
            return None
        fam = struct.unpack_from('<I', frame, 0)[0]
        if fam > 0xFFFF:
            fam = struct.unpack_from('>I', frame, 0)[0]
        return (0x0800 if fam == 2 else 0x86DD), frame[4:]
    if linktype in (LINK_RAW, LINK_IPV4, LINK_IPV6, 12, 14):
        if not frame:
            return None
        return (0x0800 if frame[0] >> 4 == 4 else 0x86DD), frame
    return None


def l4_of(etype, pkt):
    """Return (ip proto, sport, dport, payload) or None."""
    if etype == 0x0800:
        if len(pkt) < 20 or pkt[0] >> 4 != 4:
            return None
        ihl = (pkt[0] & 15) * 4
        total = struct.unpack_from('>H', pkt, 2)[0]
        if struct.unpack_from('>H', pkt, 6)[0] & 0x1FFF:
            return None                               # non-first fragment
        proto, seg = pkt[9], pkt[ihl:max(ihl, min(total, len(pkt)))]
    elif etype == 0x86DD:
        if len(pkt) < 40:
            return None
        plen = struct.unpack_from('>H', pkt, 4)[0]
        proto, seg = pkt[6], pkt[40:40 + plen]
    else:
        return None
    if proto == 6 and len(seg) >= 20:
        sport, dport = struct.unpack_from('>HH', seg, 0)
        return 6, sport, dport, seg[(seg[12] >> 4) * 4:]
    if proto == 17 and len(seg) >= 8:
        sport, dport, ulen = struct.unpack_from('>HHH', seg, 0)
        return 17, sport, dport, seg[8:max(8, min(ulen, len(seg)))]
    return None


def payloads(pcap_dir, proto):
    """Yield (file name, payload) for every payload of proto in pcap_dir."""
    tcp_ports, udp_ports = PORTS[proto]
    for name in sorted(os.listdir(pcap_dir)):
        if not name.endswith(('.pcap', '.pcapng', '.cap')):
            continue
        try:
            frames = list(read_capture(os.path.join(pcap_dir, name)))
        except (OSError, struct.error):
            continue
        for linktype, frame in frames:
            l3 = l3_of(linktype, frame)
            if l3 and l3[0] in ETHERTYPES.get(proto, ()):
                # 2 bytes of EtherType first: the fuzzer picks the parser
                yield name, struct.pack('>H', l3[0]) + l3[1]
                continue
            l4 = l3 and l4_of(*l3)
            if not l4 or not l4[3]:
                continue
            ipproto, sport, dport, data = l4
            ports = tcp_ports if ipproto == 6 else udp_ports
            if sport in ports or dport in ports:
                yield name, data
            elif proto == 'opcua' and ipproto == 6 and data[:3] in OPCUA_TYPES:
                yield name, data


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--pcaps', required=True, help='directory of .pcap/.pcapng files')
    ap.add_argument('--proto', required=True, help=', '.join(sorted(PORTS)))
    ap.add_argument('--out', help='corpus directory to fill')
    ap.add_argument('--max', type=int, default=300, help='cap on seed files (default 300)')
    ap.add_argument('--list', action='store_true', help='print payloads as hex instead')
    args = ap.parse_args()

    if args.proto not in PORTS:
        # A fuzzer for a protocol without a port table still runs, unseeded.
        print(f'seed.py: {args.proto}: no port table, no seeds', file=sys.stderr)
        return 0
    if not os.path.isdir(args.pcaps):
        print(f'seed.py: {args.pcaps}: no such directory', file=sys.stderr)
        return 2
    # Deduplicate, then take files round-robin so one big capture does not
    # crowd out the small ones that hold the rare function codes.
    seen, per_file = set(), {}
    for name, data in payloads(args.pcaps, args.proto):
        digest = hashlib.sha1(data).hexdigest()
        if digest not in seen:
            seen.add(digest)
            per_file.setdefault(name, []).append((name, digest, data))
    picked, queues = [], [list(reversed(v)) for v in per_file.values()]
    while queues and len(picked) < args.max:
        for q in queues:
            if q and len(picked) < args.max:
                picked.append(q.pop())
        queues = [q for q in queues if q]
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    for name, digest, data in picked:
        if args.list:
            print(name, data.hex())
        elif args.out:
            with open(os.path.join(args.out, digest), 'wb') as f:
                f.write(data)
    written = len(picked)
    if not args.list:
        print(f'seed.py: {args.proto}: {written} seeds', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
