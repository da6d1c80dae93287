#!/usr/bin/env python3
"""gen_catalogue.py - single-technique attack scenarios, one capture each.

A stand-in for a third-party attack-traffic catalogue: per protocol that
icsentry parses, a few seconds of benign background (a legitimate master
polling its device over one real TCP session, or UDP request/response)
plus ONE attacker technique, from another host unless the technique is
about the legitimate host.  Frames are built by hand with the helpers of
../shared/tools/ics_traffic_gen.py (Ethernet/IPv4/TCP/UDP with valid
checksums, TPKT/COTP, S7, DNP3 CRCs, IEC 104 APCI, EtherNet/IP).

USAGE
    gen_catalogue.py OUTDIR        writes OUTDIR/<id>.pcap and OUTDIR/catalogue.json

catalogue.json lists, per scenario: id, protocol, technique (ATT&CK for
ICS), description, attacker ip, start_ts / end_ts (epoch seconds of the
attack's first and last frame), pcap file name.  Deterministic: the same
run gives byte-identical files.
"""
import json
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get('SHARED', os.path.join(HERE, '..', '..', 'shared'))
sys.path.insert(0, os.path.join(SHARED, 'tools'))
import ics_traffic_gen as g  # noqa: E402

EPOCH = 1_733_400_000            # 2024-12-05 12:00:00 UTC
MASTER = {'name': 'scada', 'mac': '00:1c:06:10:00:14', 'ip': '10.10.1.20', 'role': 'scada'}
DEVICE = {'name': 'plc', 'mac': '00:1b:1b:20:00:32', 'ip': '10.10.1.50', 'role': 'plc'}
DEVICE2 = {'name': 'plc2', 'mac': '00:1b:1b:20:00:33', 'ip': '10.10.1.51', 'role': 'plc'}
ATTACKER = {'name': 'attacker', 'mac': '00:0c:29:6e:66:66', 'ip': '10.10.1.66', 'role': 'it-host',
            'os': 'linux'}
BCAST = {'name': 'bcast', 'mac': 'ff:ff:ff:ff:ff:ff', 'ip': '10.10.1.255', 'role': 'it-host'}
ATTACK_AT = 3.0                  # attack starts 3 s into the capture
BACKGROUND = 8.0                 # benign polling runs 0 .. 8 s
POLL = 0.5


class Capture:
    """Frames of one scenario: (time in us, frame); written sorted."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.frames = []
        self.attack = []          # times of the attacker's frames
        self.hosts = {}
        for spec in (MASTER, DEVICE, DEVICE2, ATTACKER, BCAST):
            self.hosts[spec['name']] = g.Host(spec, self.rng)

    def emit(self, t, frame, attack=False):
        self.frames.append((g.us(t), frame))
        if attack:
            self.attack.append(t)

    def write(self, path):
        self.frames.sort(key=lambda x: x[0])
        with open(path, 'wb') as f:
            f.write(g.PCAP_HEADER)
            for t, fr in self.frames:
                if len(fr) < 60:
                    fr += bytes(60 - len(fr))
                ts = t + EPOCH * g.SEC
                f.write(g.PCAP_RECORD.pack(ts // g.SEC, ts % g.SEC, len(fr), len(fr)))
                f.write(fr)


class Tcp:
    """A TCP session with timestamps given by the caller."""

    def __init__(self, cap, client, server, port, attack=False):
        self.cap, self.attack = cap, attack
        c, s = cap.hosts[client], cap.hosts[server]
        self.sport = c.ephemeral_port()
        self.c = g.TcpHalf(c, s, self.sport, port)
        self.s = g.TcpHalf(s, c, port, self.sport)
        self.cseq, self.sseq = cap.rng.getrandbits(32), cap.rng.getrandbits(32)
        self.csyn, self.ssyn = c.syn_options, s.syn_options

    def open(self, t):
        e = self.cap.emit
        e(t, self.c.frame(g.SYN, self.cseq, 0, options=self.csyn), self.attack)
        self.cseq = (self.cseq + 1) & g.MASK32
        e(t + 0.0005, self.s.frame(g.SYN | g.ACK, self.sseq, self.cseq, options=self.ssyn))
        self.sseq = (self.sseq + 1) & g.MASK32
        e(t + 0.0007, self.c.frame(g.ACK, self.cseq, self.sseq), self.attack)
        return t + 0.001

    def req(self, t, payload, answer=None, delay=0.004):
        """Client payload at t; server answer after delay; client ACK."""
        e = self.cap.emit
        e(t, self.c.frame(g.PSH_ACK, self.cseq, self.sseq, payload), self.attack)
        self.cseq = (self.cseq + len(payload)) & g.MASK32
        if answer is None:
            e(t + 0.0002, self.s.frame(g.ACK, self.sseq, self.cseq))
            return t + 0.001
        e(t + delay, self.s.frame(g.PSH_ACK, self.sseq, self.cseq, answer))
        self.sseq = (self.sseq + len(answer)) & g.MASK32
        e(t + delay + 0.0003, self.c.frame(g.ACK, self.cseq, self.sseq), self.attack)
        return t + delay + 0.001

    def push(self, t, payload):
        """Server-side payload (unsolicited report) and the client's ACK."""
        e = self.cap.emit
        e(t, self.s.frame(g.PSH_ACK, self.sseq, self.cseq, payload))
        self.sseq = (self.sseq + len(payload)) & g.MASK32
        e(t + 0.0003, self.c.frame(g.ACK, self.cseq, self.sseq), self.attack)
        return t + 0.001

    def close(self, t):
        e = self.cap.emit
        e(t, self.c.frame(g.FIN | g.ACK, self.cseq, self.sseq), self.attack)
        self.cseq = (self.cseq + 1) & g.MASK32
        e(t + 0.0004, self.s.frame(g.FIN | g.ACK, self.sseq, self.cseq))
        self.sseq = (self.sseq + 1) & g.MASK32
        e(t + 0.0008, self.c.frame(g.ACK, self.cseq, self.sseq), self.attack)
        return t + 0.001


class Udp:
    def __init__(self, cap, client, server, sport, dport, attack=False, dst_ip=None):
        self.cap, self.attack = cap, attack
        c, s = cap.hosts[client], cap.hosts[server]
        self.c = g.UdpHalf(c, s, sport, dport, dst_ip=dst_ip)
        self.s = g.UdpHalf(s, c, dport, sport)

    def req(self, t, payload, answer=None, delay=0.004):
        self.cap.emit(t, self.c.frame(payload), self.attack)
        if answer is not None:
            self.cap.emit(t + delay, self.s.frame(answer))
        return t + delay + 0.001


# ---------------------------------------------------------------------------
# Protocol encoders not in ics_traffic_gen.py
# ---------------------------------------------------------------------------

def cotp_dt(payload):
    return g.tpkt(b'\x02\xf0\x80' + payload)


def s7_userdata(group, sub, data, seq=0, pdu_ref=1):
    """S7 userdata request: param head 00 01 12, len 4, method 0x11,
    type request (4) | group, subfunction, sequence; data item ff 09 len."""
    param = bytes((0x00, 0x01, 0x12, 0x04, 0x11, 0x40 | group, sub, seq))
    data = bytes((0xFF, 0x09)) + struct.pack('>H', len(data)) + data
    return g.s7_pdu(7, pdu_ref, param, data)


def s7_job(pdu_ref, param, data=b''):
    return g.s7_pdu(1, pdu_ref, param, data)


def s7_ack(pdu_ref, param, data=b''):
    return g.s7_pdu(3, pdu_ref, param, data)


def s7_write_var(db, start, value):
    param = bytes((0x05, 1)) + struct.pack('>BBBBHHB', 0x12, 0x0A, 0x10, 0x02, len(value),
                                           db, 0x84) + (start << 3).to_bytes(3, 'big')
    data = struct.pack('>BBH', 0x00, 0x04, len(value) * 8) + value
    return param, data


def s7_block_file(block_type=b'08', number=1):
    """'_0' + type + 5-digit number + 'P' (filename of a block, as in download requests)."""
    return b'_0' + block_type + b'%05d' % number + b'P'


def s7_plus(opcode, function, seq, body=b''):
    """S7comm-plus (0x72) frame, protocol version 1 (no integrity part), inside COTP DT:
    opcode, reserved, function, reserved, sequence number, session id, transport flags,
    then the trailer 0x72 version 0x0000."""
    inner = struct.pack('>BHHHHIB', opcode, 0, function, 0, seq, 0x12345678, 0x36) + body
    return cotp_dt(struct.pack('>BBH', 0x72, 0x01, len(inner)) + inner
                   + struct.pack('>BBH', 0x72, 0x01, 0))


def dnp3_req(link, fc, objects=b'', dst=None, src=None, ctrl=g.DNP3_CTRL_MASTER):
    link.aseq = (link.aseq + 1) & 15
    link.tseq_m = (link.tseq_m + 1) & 63
    user = bytes((0xC0 | link.tseq_m, 0xC0 | link.aseq, fc)) + objects
    return g.dnp3_frame(ctrl, link.outstation if dst is None else dst,
                        link.master if src is None else src, user)


def dnp3_unsolicited(link, objects, iin=b'\x00\x00'):
    link.tseq_o = (link.tseq_o + 1) & 63
    user = bytes((0xC0 | link.tseq_o, 0xF0 | (link.aseq & 15), 0x82)) + iin + objects
    return g.dnp3_frame(g.DNP3_CTRL_OUTSTATION, link.master, link.outstation, user)


def enip_send_rr(session, cip):
    return g.enip(g.ENIP_SEND_RR, session, g.cpf_unconnected(cip))


def fins(icf, da1, sa1, sid, mrc, src, data=b''):
    return bytes((icf, 0, 2, 0, da1, 0, 0, sa1, 0, sid, mrc, src)) + data


def bvlc(npdu_apdu, func=0x0A):
    return struct.pack('>BBH', 0x81, func, len(npdu_apdu) + 4) + npdu_apdu


def bacnet_confirmed(invoke, service, body):
    # NPDU: version 1, control 0x04 (expecting reply); APDU confirmed request, max segs/apdu 0x05
    return bvlc(b'\x01\x04' + bytes((0x00, 0x05, invoke, service)) + body)


def bacnet_unconfirmed(service, body, bcast=False):
    return bvlc(b'\x01\x00' + bytes((0x10, service)) + body, 0x0B if bcast else 0x0A)


def bacnet_complex_ack(invoke, service, body):
    return bvlc(b'\x01\x00' + bytes((0x30, invoke, service)) + body)


def bacnet_simple_ack(invoke, service):
    return bvlc(b'\x01\x00' + bytes((0x20, invoke, service)))


def bac_objid(tag, otype, inst):
    return bytes((tag << 4 | 0x0C,)) + struct.pack('>I', otype << 22 | inst)


def bac_prop(prop):
    return bytes((0x19, prop))


def ua_string(s):
    if s is None:
        return b'\xff\xff\xff\xff'
    s = s.encode() if isinstance(s, str) else s
    return struct.pack('<i', len(s)) + s


def ua_msg(kind, chan, token, seq, req, node, body, chunk=b'F'):
    """UA Secure Conversation chunk: type, 'F', size, channel, token, seq, request id,
    service NodeId (four-byte encoding), body."""
    payload = struct.pack('<III', token, seq, req) + struct.pack('<BBH', 1, 0, node) + body
    return kind + chunk + struct.pack('<II', 12 + len(payload), chan) + payload


def ua_req_header(handle):
    # authenticationToken (numeric two-byte 0), timestamp, handle, diagnostics, audit id,
    # timeout hint, additional header (null extension object)
    return (b'\x00\x00' + struct.pack('<qII', 133000000000000000, handle, 0)
            + ua_string(None) + struct.pack('<I', 10000) + b'\x00\x00\x00')


def ua_resp_header(handle):
    return (struct.pack('<qII', 133000000000000000, handle, 0) + b'\x00'
            + struct.pack('<i', -1) + b'\x00\x00\x00')


def ua_node_numeric(ns, ident):
    return struct.pack('<BHI', 2, ns, ident)


def ber(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes((n,))
    elif n < 0x100:
        ln = bytes((0x81, n))
    else:
        ln = bytes((0x82, n >> 8, n & 0xFF))
    tag = tag if isinstance(tag, bytes) else bytes((tag,))
    return tag + ln + body


def mms_wrap(mms):
    """MMS PDU in presentation fully-encoded-data (context 3), session give tokens + data
    transfer, COTP DT, TPKT."""
    pres = ber(0x61, ber(0x30, b'\x02\x01\x03' + ber(0xA0, mms)))
    return cotp_dt(b'\x01\x00\x01\x00' + pres)


def mms_req(invoke, service):
    return mms_wrap(ber(0xA0, ber(0x02, struct.pack('>H', invoke)) + service))


def mms_resp(invoke, service):
    return mms_wrap(ber(0xA1, ber(0x02, struct.pack('>H', invoke)) + service))


def mms_objname(domain, item):
    return ber(0xA1, ber(0x1A, domain) + ber(0x1A, item))


def mms_read(domain, item):
    return ber(0xA4, ber(0xA1, ber(0xA0, ber(0x30, ber(0xA0, mms_objname(domain, item))))))


def mms_write(domain, item, data):
    return ber(0xA5, ber(0xA0, ber(0x30, ber(0xA0, mms_objname(domain, item))))
               + ber(0xA0, data))


MMS_INITIATE_REQ = bytes.fromhex(
    '0300 00a7 02f0 800d 9e05 0613 0100 1601 0214 0200 0233 0200 0134 0200 01c1 8831 8185'
    'a003 8001 01a2 7e81 0400 0000 0182 0400 0000 01a4 2330 0f02 0101 0604 5201 0001 3004'
    '0602 5101 3010 0201 0306 0528 ca22 0201 3004 0602 5101 8802 0600 6147 3045 0201 01a0'
    '4060 3e80 0207 80a1 0706 0528 ca22 0203 be2f 282d 0201 03a0 28a8 2680 0300 fa00 8101'
    '0a82 010a 8301 05a4 1680 0101 8103 05e1 0082 0c03 a000 0000 0000 0000 00e1 10'
    .replace(' ', ''))


# ---------------------------------------------------------------------------
# Scenarios: per protocol, a background and a list of techniques
# ---------------------------------------------------------------------------

SCENARIOS = []


def scenario(proto, technique, desc, attacker='attacker'):
    def deco(fn):
        SCENARIOS.append({'protocol': proto, 'technique': technique, 'description': desc,
                          'attacker': attacker, 'fn': fn})
        return fn
    return deco


def times(start, n, step):
    return [start + i * step for i in range(n)]


# --- Modbus/TCP ----------------------------------------------------------------------

def modbus_bg(cap):
    s = Tcp(cap, 'scada', 'plc', 502)
    t = s.open(0.05)
    tid = 1
    while t < BACKGROUND:
        s.req(t, g.mbap(tid, 1, g.mb_read_request(3, 0, 10)),
              g.mbap(tid, 1, g.mb_read_response(3, bytes(20))))
        tid += 1
        t += POLL
    s.close(BACKGROUND + 0.2)


def modbus_attack(cap, pdus, unit=1, gap=0.05, answer=True):
    s = Tcp(cap, 'attacker', 'plc', 502, attack=True)
    t = s.open(ATTACK_AT)
    for i, (pdu, resp) in enumerate(pdus):
        u = unit(i) if callable(unit) else unit
        s.req(t, g.mbap(i + 1, u, pdu), g.mbap(i + 1, u, resp) if answer and resp else None)
        t += gap
    s.close(t + 0.05)


def mb_write(fc, addr, values):
    req, resp = g.mb_write_request(fc, addr, values)
    return req, resp


@scenario('modbus', 'T0855', 'write single register (fc 6) from an unknown host')
def _(cap):
    modbus_attack(cap, [mb_write(6, 40, [1234])])


@scenario('modbus', 'T0855', 'write multiple coils (fc 15) from an unknown host')
def _(cap):
    modbus_attack(cap, [mb_write(15, 0, [1, 0, 1, 1, 0, 1, 0, 1])])


@scenario('modbus', 'T0855', 'mask write register (fc 22) from an unknown host')
def _(cap):
    pdu = struct.pack('>BHHH', 22, 4, 0x00F2, 0x0025)
    modbus_attack(cap, [(pdu, pdu)])


@scenario('modbus', 'T0836', 'setpoint written far outside its range (fc 16, 0xFFFF)')
def _(cap):
    modbus_attack(cap, [mb_write(16, 100, [0xFFFF, 0xFFFF])])


@scenario('modbus', 'T0816', 'diagnostics restart communications option (fc 8/0x0001)')
def _(cap):
    pdu = struct.pack('>BHH', 8, 1, 0xFF00)
    modbus_attack(cap, [(pdu, pdu)])


@scenario('modbus', 'T0814', 'diagnostics force listen only mode (fc 8/0x0004)')
def _(cap):
    modbus_attack(cap, [(struct.pack('>BHH', 8, 4, 0), None)])


@scenario('modbus', 'T0888', 'read device identification (fc 43/14)')
def _(cap):
    modbus_attack(cap, [(bytes((43, 14, 1, 0)),
                         bytes((43, 14, 1, 1, 0, 0, 3, 0, 6)) + b'Vendor' + b'\x01\x04PLC1'
                         + b'\x02\x03v1.')])


@scenario('modbus', 'T0888', 'report server id (fc 17)')
def _(cap):
    modbus_attack(cap, [(bytes((17,)), bytes((17, 4, 0x42, 0xFF)) + b'PL')])


@scenario('modbus', 'T0846', 'unit id scan 1..40 (fc 3), gateway refuses unknown units')
def _(cap):
    pdus = [(g.mb_read_request(3, 0, 1),
             g.mb_read_response(3, bytes(2)) if i == 0 else g.mb_exception(3, 0x0B))
            for i in range(40)]
    modbus_attack(cap, pdus, unit=lambda i: i + 1, gap=0.02)


@scenario('modbus', 'T0861', 'holding-register sweep 0..6400 in blocks of 100 (fc 3)')
def _(cap):
    pdus = [(g.mb_read_request(3, a, 100), g.mb_read_response(3, bytes(200)))
            for a in range(0, 6400, 100)]
    modbus_attack(cap, pdus, gap=0.02)


@scenario('modbus', 'T0806', 'brute force I/O: coil 7 toggled 40 times (fc 5)')
def _(cap):
    pdus = [mb_write(5, 7, [i & 1]) for i in range(40)]
    modbus_attack(cap, pdus, gap=0.05)


@scenario('modbus', 'T0814', 'request flood: 400 reads in 2 s')
def _(cap):
    pdus = [(g.mb_read_request(3, 0, 10), g.mb_read_response(3, bytes(20))) for i in range(400)]
    modbus_attack(cap, pdus, gap=0.005)


@scenario('modbus', 'T0858', 'Schneider UMAS stop PLC (fc 90/0x41)')
def _(cap):
    modbus_attack(cap, [(bytes((90, 0x00, 0x41, 0xFF, 0x00)), bytes((90, 0x00, 0xFE)))])


@scenario('modbus', 'T0843', 'Schneider UMAS initiate download (fc 90/0x30)')
def _(cap):
    modbus_attack(cap, [(bytes((90, 0x00, 0x30, 0x00, 0x01)), bytes((90, 0x00, 0xFE)))])


# --- DNP3 ------------------------------------------------------------------------------

def dnp3_setup(cap):
    cap.link = g.Dnp3Link(1, 10, cap.rng)


def dnp3_bg(cap):
    dnp3_setup(cap)
    s = Tcp(cap, 'scada', 'plc', 20000)
    cap.bg = s
    t = s.open(0.05)
    while t < BACKGROUND:
        s.req(t, cap.link.request(1, g.DNP3_CLASS_123), cap.link.response())
        t += POLL
    s.close(BACKGROUND + 0.2)


def dnp3_attack(cap, reqs, gap=0.05, answer=True, src=1, dst=10):
    s = Tcp(cap, 'attacker', 'plc', 20000, attack=True)
    link = g.Dnp3Link(src, dst, cap.rng)
    t = s.open(ATTACK_AT)
    for fc, objs in reqs:
        resp = link.response() if answer else None
        s.req(t, dnp3_req(link, fc, objs), resp)
        t += gap
    s.close(t + 0.05)


CROB = b'\x0c\x01\x17\x01\x03' + b'\x41\x01' + struct.pack('<II', 1000, 0) + b'\x00'


@scenario('dnp3', 'T0855', 'direct operate CROB (fc 5) from an unknown host')
def _(cap):
    dnp3_attack(cap, [(5, CROB)])


@scenario('dnp3', 'T0855', 'select / operate CROB (fc 3, 4) from an unknown host')
def _(cap):
    dnp3_attack(cap, [(3, CROB), (4, CROB)])


@scenario('dnp3', 'T0836', 'analog output setpoint g41v2 = 32767 (direct operate)')
def _(cap):
    dnp3_attack(cap, [(5, b'\x29\x02\x17\x01\x00' + struct.pack('<hB', 32767, 0))])


@scenario('dnp3', 'T0816', 'cold restart (fc 13)')
def _(cap):
    dnp3_attack(cap, [(13, b'')])


@scenario('dnp3', 'T0816', 'warm restart (fc 14)')
def _(cap):
    dnp3_attack(cap, [(14, b'')])


@scenario('dnp3', 'T0881', 'stop application (fc 18)')
def _(cap):
    dnp3_attack(cap, [(18, b'\x5a\x01\x5b\x01\x06\x00')])


@scenario('dnp3', 'T0878', 'disable unsolicited responses (fc 21) for classes 1-3')
def _(cap):
    dnp3_attack(cap, [(21, g.DNP3_CLASS_123)])


@scenario('dnp3', 'T0849', 'time set: write g50v1 from an unknown host')
def _(cap):
    dnp3_attack(cap, [(2, b'\x32\x01\x07\x01' + g.dnp3_time48(EPOCH * g.SEC + 86400 * g.SEC))])


@scenario('dnp3', 'T0848', 'rogue master integrity poll (class 0 read)')
def _(cap):
    dnp3_attack(cap, [(1, g.DNP3_CLASS_0)] * 3, gap=0.3)


@scenario('dnp3', 'T0846', 'link address scan 0..40 (link status requests)')
def _(cap):
    s = Tcp(cap, 'attacker', 'plc', 20000, attack=True)
    t = s.open(ATTACK_AT)
    for a in range(41):
        # request link status: DIR=1 PRM=1 FC 9; only address 10 answers (FC 11)
        fr = g.dnp3_frame(0xC9, a, 1, b'')
        ans = g.dnp3_frame(0x0B, 1, 10, b'') if a == 10 else None
        s.req(t, fr, ans)
        t += 0.02
    s.close(t + 0.05)


@scenario('dnp3', 'T0856', 'spoofed unsolicited response toward the master')
def _(cap):
    # the attacker opens to the master's DNP3 port?  No: the master is the TCP client; the
    # attacker connects to the outstation's port with a response (0x82) in outstation form
    s = Tcp(cap, 'attacker', 'plc', 20000, attack=True)
    link = g.Dnp3Link(1, 10, cap.rng)
    t = s.open(ATTACK_AT)
    ev = b'\x20\x01\x28\x01\x00\x00\x00' + struct.pack('<IB', 99999, 1)
    s.req(t, dnp3_unsolicited(link, ev))
    s.close(t + 0.05)


@scenario('dnp3', 'T0836', 'activate configuration (fc 31)')
def _(cap):
    dnp3_attack(cap, [(31, b'\x46\x03\x5b\x01\x05\x00')])


@scenario('dnp3', 'T0881', 'initialize application (fc 16)')
def _(cap):
    dnp3_attack(cap, [(16, b'\x5a\x01\x5b\x01\x06\x00')])


@scenario('dnp3', 'T0855', 'freeze and clear counters (fc 9)')
def _(cap):
    dnp3_attack(cap, [(9, b'\x14\x00\x06')])


@scenario('dnp3', 'T0814', 'request flood: 300 class polls in 1.5 s')
def _(cap):
    dnp3_attack(cap, [(1, g.DNP3_CLASS_123)] * 300, gap=0.005)


def g70v3(name, mode, size=4096, block=1024, req=1):
    """File command object (IEEE 1815 g70v3), qualifier 0x5B: one-octet count, two-octet
    object size; name offset | name size | creation time (6) | permissions | auth key (4) |
    file size (4) | mode (1 read, 2 write, 3 append) | max block size | request id | name."""
    body = (struct.pack('<HH', 26, len(name)) + bytes(6)
            + struct.pack('<HIIHHH', 0x1FF, 0, size, mode, block, req) + name)
    return struct.pack('<BBBB', 0x46, 3, 0x5b, 1) + struct.pack('<H', len(body)) + body


@scenario('dnp3', 'T0843', 'file transfer: open file for write (fc 25, g70v3)')
def _(cap):
    dnp3_attack(cap, [(25, g70v3(b'/config/app.bin', 2))])


# --- S7comm ----------------------------------------------------------------------------

def s7_open(s, t):
    t = s.open(t)
    t = s.req(t, g.cotp_connect(0xE0, 0, 1, 0x0100, 0x0102),
              g.cotp_connect(0xD0, 1, 1, 0x0100, 0x0102))
    t = s.req(t, s7_job(0, g.s7_setup_param(480)), s7_ack(0, g.s7_setup_param(240)))
    return t


def s7_bg(cap):
    s = Tcp(cap, 'scada', 'plc', 102)
    t = s7_open(s, 0.05)
    ref = 1
    while t < BACKGROUND:
        s.req(t, s7_job(ref, g.s7_read_var_param([(1, 0, 16)])),
              s7_ack(ref, b'\x04\x01', g.s7_read_var_data([bytes(16)])))
        ref += 1
        t += POLL
    s.close(BACKGROUND + 0.2)


def s7_attack(cap, pdus, gap=0.05):
    s = Tcp(cap, 'attacker', 'plc', 102, attack=True)
    t = s7_open(s, ATTACK_AT)
    for i, (req, resp) in enumerate(pdus):
        s.req(t, req, resp)
        t += gap
    s.close(t + 0.05)


@scenario('s7comm', 'T0855', 'write var DB1.DBB0 from an unknown host')
def _(cap):
    p, d = s7_write_var(1, 0, b'\x01\x02')
    s7_attack(cap, [(s7_job(10, p, d), s7_ack(10, b'\x05\x01', b'\xff'))])


@scenario('s7comm', 'T0836', 'write var setpoint DB5.DBD4 = 1e9 from an unknown host')
def _(cap):
    p, d = s7_write_var(5, 4, struct.pack('>f', 1e9))
    s7_attack(cap, [(s7_job(10, p, d), s7_ack(10, b'\x05\x01', b'\xff'))])


@scenario('s7comm', 'T0858', 'PLC STOP (0x29)')
def _(cap):
    s7_attack(cap, [(s7_job(10, g.S7_PLC_STOP), s7_ack(10, b'\x29'))])


@scenario('s7comm', 'T0858', 'PLC hot start (0x28 P_PROGRAM)')
def _(cap):
    s7_attack(cap, [(s7_job(10, g.S7_PLC_HOT_START), s7_ack(10, b'\x28'))])


@scenario('s7comm', 'T0843', 'program download: request download OB1 (0x1a)')
def _(cap):
    fn = s7_block_file(b'08', 1)
    param = b'\x1a\x00\x01\x00\x00\x00\x00\x00\x09' + fn + b'\x0d1000256000128'
    s7_attack(cap, [(s7_job(10, param), s7_ack(10, b'\x1a'))])


@scenario('s7comm', 'T0845', 'program upload: start upload OB1 (0x1d)')
def _(cap):
    fn = s7_block_file(b'08', 1)
    param = b'\x1d\x00\x00\x00\x00\x00\x00\x00\x09' + fn
    s7_attack(cap, [(s7_job(10, param), s7_ack(10, b'\x1d\x00\x00\x00\x00\x00\x00\x07'))])


@scenario('s7comm', 'T0888', 'SZL read 0x0011 module identification')
def _(cap):
    s7_attack(cap, [(s7_userdata(4, 1, b'\x00\x11\x00\x00'), None)])


@scenario('s7comm', 'T0888', 'SZL read 0x001c component identification')
def _(cap):
    s7_attack(cap, [(s7_userdata(4, 1, b'\x00\x1c\x00\x00'), None)])


@scenario('s7comm', 'T0849', 'set PLC clock (userdata time group, set clock)')
def _(cap):
    s7_attack(cap, [(s7_userdata(7, 2, b'\x00\x19\x12\x05\x12\x00\x00\x00\x00\x05'), None)])


@scenario('s7comm', 'T0861', 'list blocks of type OB/FB/DB (userdata block group)')
def _(cap):
    s7_attack(cap, [(s7_userdata(3, 1, b''), None), (s7_userdata(3, 2, b'\x30\x41'), None)])


@scenario('s7comm', 'T0806', 'password brute force (userdata security group, 20 tries)')
def _(cap):
    s7_attack(cap, [(s7_userdata(5, 1, bytes(8)), None)] * 20, gap=0.03)


@scenario('s7comm', 'T0814', 'COTP connection flood (60 connections in 1.2 s)')
def _(cap):
    for i in range(60):
        s = Tcp(cap, 'attacker', 'plc', 102, attack=True)
        t = s.open(ATTACK_AT + i * 0.02)
        s.req(t, g.cotp_connect(0xE0, 0, 1, 0x0100, 0x0102),
              g.cotp_connect(0xD0, 1, 1, 0x0100, 0x0102))


@scenario('s7comm', 'T0855', 'S7comm-plus: SetVariable (opcode 0x31 function 0x04f2) from an unknown host')
def _(cap):
    s = Tcp(cap, 'attacker', 'plc', 102, attack=True)
    t = s.open(ATTACK_AT)
    t = s.req(t, g.cotp_connect(0xE0, 0, 1, 0x0100, 0x0102),
              g.cotp_connect(0xD0, 1, 1, 0x0100, 0x0102))
    s.req(t, s7_plus(0x31, 0x04F2, 2, b'\x00\x00\x00\x34\x01\x9a\x00'),
          s7_plus(0x32, 0x04F2, 2, b'\x00'))
    s.close(t + 0.1)


# --- IEC 60870-5-104 ---------------------------------------------------------------------

CA = 1


def iec104_bg(cap):
    s = Tcp(cap, 'scada', 'plc', 2404)
    link = g.Iec104Link()
    t = s.open(0.05)
    t = s.req(t, g.iec104_u(g.IEC104_STARTDT_ACT), g.iec104_u(g.IEC104_STARTDT_CON))
    while t < BACKGROUND:
        s.req(t, link.from_master(g.iec104_asdu(100, 6, CA, g.ioa(0) + b'\x14', 1)),
              link.from_rtu(g.iec104_asdu(100, 7, CA, g.ioa(0) + b'\x14', 1)))
        s.push(t + 0.02, link.from_rtu(g.iec104_asdu(13, 20, CA, g.ioa(1000)
                                                      + struct.pack('<fB', 42.0, 0), 1)))
        s.push(t + 0.03, link.from_rtu(g.iec104_asdu(100, 10, CA, g.ioa(0) + b'\x14', 1)))
        t += 2.0
    s.close(BACKGROUND + 0.2)


def iec104_attack(cap, asdus, gap=0.05, startdt=True, conf=True):
    s = Tcp(cap, 'attacker', 'plc', 2404, attack=True)
    link = g.Iec104Link()
    t = s.open(ATTACK_AT)
    if startdt:
        t = s.req(t, g.iec104_u(g.IEC104_STARTDT_ACT), g.iec104_u(g.IEC104_STARTDT_CON))
    for a in asdus:
        if isinstance(a, bytes) and a[0] == 0x68:
            s.req(t, a, None)
        else:
            tid, cot, obj = a
            resp = link.from_rtu(g.iec104_asdu(tid, 7, CA, obj, 1)) if conf else None
            s.req(t, link.from_master(g.iec104_asdu(tid, cot, CA, obj, 1)), resp)
        t += gap
    s.close(t + 0.05)


@scenario('iec104', 'T0855', 'single command C_SC_NA_1 (45) from an unknown host')
def _(cap):
    iec104_attack(cap, [(45, 6, g.ioa(2000) + b'\x01')])


@scenario('iec104', 'T0855', 'double command select + execute C_DC_NA_1 (46)')
def _(cap):
    iec104_attack(cap, [(46, 6, g.ioa(2001) + b'\x82'), (46, 6, g.ioa(2001) + b'\x02')])


@scenario('iec104', 'T0836', 'setpoint C_SE_NC_1 (50) = 1e6 from an unknown host')
def _(cap):
    iec104_attack(cap, [(50, 6, g.ioa(3000) + struct.pack('<fB', 1e6, 0))])


@scenario('iec104', 'T0816', 'reset process C_RP_NA_1 (105)')
def _(cap):
    iec104_attack(cap, [(105, 6, g.ioa(0) + b'\x01')])


@scenario('iec104', 'T0849', 'clock synchronisation C_CS_NA_1 (103) from an unknown host')
def _(cap):
    iec104_attack(cap, [(103, 6, g.ioa(0) + g.cp56time2a((EPOCH + 7200) * g.SEC))])


@scenario('iec104', 'T0881', 'STOPDT act from an unknown host')
def _(cap):
    iec104_attack(cap, [g.iec104_u(g.IEC104_STOPDT_ACT)])


@scenario('iec104', 'T0838', 'parameter of measured value P_ME_NC_1 (112)')
def _(cap):
    iec104_attack(cap, [(112, 6, g.ioa(1000) + struct.pack('<fB', 1000.0, 1))])


@scenario('iec104', 'T0878', 'parameter activation P_AC_NA_1 (113) deactivation')
def _(cap):
    iec104_attack(cap, [(113, 8, g.ioa(1000) + b'\x03')])


@scenario('iec104', 'T0861', 'general interrogation C_IC_NA_1 (100) from an unknown host')
def _(cap):
    iec104_attack(cap, [(100, 6, g.ioa(0) + b'\x14')])


@scenario('iec104', 'T0861', 'read command C_RD_NA_1 (102) sweep of 30 IOAs')
def _(cap):
    iec104_attack(cap, [(102, 5, g.ioa(1000 + i)) for i in range(30)], gap=0.02)


@scenario('iec104', 'T0856', 'spoofed measurement M_ME_NC_1 (13) sent toward the RTU')
def _(cap):
    iec104_attack(cap, [(13, 3, g.ioa(1000) + struct.pack('<fB', -5.0, 0))], conf=False)


@scenario('iec104', 'T0814', 'interrogation flood: 300 C_IC in 1.5 s')
def _(cap):
    iec104_attack(cap, [(100, 6, g.ioa(0) + b'\x14')] * 300, gap=0.005)


@scenario('iec104', 'T0846', 'common address sweep 1..30 (C_IC to each)')
def _(cap):
    s = Tcp(cap, 'attacker', 'plc', 2404, attack=True)
    link = g.Iec104Link()
    t = s.open(ATTACK_AT)
    t = s.req(t, g.iec104_u(g.IEC104_STARTDT_ACT), g.iec104_u(g.IEC104_STARTDT_CON))
    for ca in range(1, 31):
        s.req(t, link.from_master(g.iec104_asdu(100, 6, ca, g.ioa(0) + b'\x14', 1)),
              link.from_rtu(g.iec104_asdu(100, 7 if ca == CA else 0x47, ca,
                                          g.ioa(0) + b'\x14', 1)))
        t += 0.03
    s.close(t + 0.05)


# --- EtherNet/IP + CIP -------------------------------------------------------------------

def enip_bg(cap):
    s = Tcp(cap, 'scada', 'plc', 44818)
    t = s.open(0.05)
    t = s.req(t, g.enip(g.ENIP_REGISTER, 0, b'\x01\x00\x00\x00'),
              g.enip(g.ENIP_REGISTER, 0x1001, b'\x01\x00\x00\x00'))
    path = b'\x20\x04\x24\x65\x30\x03'   # assembly 101, attribute 3
    while t < BACKGROUND:
        s.req(t, enip_send_rr(0x1001, g.cip_request(0x0E, path)),
              enip_send_rr(0x1001, g.cip_response(0x0E, bytes(32))))
        t += POLL
    s.close(BACKGROUND + 0.2)


def enip_attack(cap, cips, gap=0.05):
    s = Tcp(cap, 'attacker', 'plc', 44818, attack=True)
    t = s.open(ATTACK_AT)
    t = s.req(t, g.enip(g.ENIP_REGISTER, 0, b'\x01\x00\x00\x00'),
              g.enip(g.ENIP_REGISTER, 0x2002, b'\x01\x00\x00\x00'))
    for svc, path, data in cips:
        s.req(t, enip_send_rr(0x2002, g.cip_request(svc, path, data)),
              enip_send_rr(0x2002, g.cip_response(svc)))
        t += gap
    s.close(t + 0.05)


@scenario('enip', 'T0855', 'Set_Attribute_Single on an assembly from an unknown host')
def _(cap):
    enip_attack(cap, [(0x10, b'\x20\x04\x24\x96\x30\x03', bytes(8))])


@scenario('enip', 'T0855', 'Write Tag (0x4d) from an unknown host')
def _(cap):
    tag = b'\x91\x08Setpoint'
    enip_attack(cap, [(0x4D, tag, b'\xc4\x00\x01\x00\x10\x27\x00\x00')])


@scenario('enip', 'T0816', 'CIP Reset (0x05) of the Identity object')
def _(cap):
    enip_attack(cap, [(0x05, g.CIP_PATH_IDENTITY, b'\x00')])


@scenario('enip', 'T0858', 'CIP Stop (0x07)')
def _(cap):
    enip_attack(cap, [(0x07, b'\x20\x8e\x24\x01', b'')])


@scenario('enip', 'T0888', 'Get_Attributes_All of the Identity object from an unknown host')
def _(cap):
    enip_attack(cap, [(0x01, g.CIP_PATH_IDENTITY, b'')])


@scenario('enip', 'T0846', 'ListIdentity broadcast (UDP 44818)')
def _(cap):
    u = Udp(cap, 'attacker', 'bcast', 50000, 44818, attack=True)
    u.req(ATTACK_AT, g.enip(g.ENIP_LIST_IDENTITY, 0))


@scenario('enip', 'T0846', 'ListServices + ListIdentity over TCP')
def _(cap):
    s = Tcp(cap, 'attacker', 'plc', 44818, attack=True)
    t = s.open(ATTACK_AT)
    t = s.req(t, g.enip(0x04, 0), g.enip(0x04, 0, b'\x01\x00\x00\x01\x14\x00\x01\x00\x20\x01'
                                               + b'Communications\x00\x00'))
    t = s.req(t, g.enip(g.ENIP_LIST_IDENTITY, 0), None)
    s.close(t + 0.05)


@scenario('enip', 'T0814', 'RegisterSession flood (80 in 1.6 s)')
def _(cap):
    for i in range(80):
        s = Tcp(cap, 'attacker', 'plc', 44818, attack=True)
        t = s.open(ATTACK_AT + i * 0.02)
        s.req(t, g.enip(g.ENIP_REGISTER, 0, b'\x01\x00\x00\x00'),
              g.enip(g.ENIP_REGISTER, 0x3000 + i, b'\x01\x00\x00\x00'))


@scenario('enip', 'T0861', 'tag sweep: Read Tag (0x4c) of 40 symbols')
def _(cap):
    enip_attack(cap, [(0x4C, b'\x91\x05Tag%02d' % i + b'\x00', b'\x01\x00') for i in range(40)],
                gap=0.02)


@scenario('enip', 'T0839', 'firmware update: Initiate Download to the File object (0x37)')
def _(cap):
    enip_attack(cap, [(0x4C, b'\x20\x37\x24\x01', struct.pack('<I', 65536) + b'\x00\x00\x02')])


# --- BACnet/IP ---------------------------------------------------------------------------

def bacnet_bg(cap):
    u = Udp(cap, 'scada', 'plc', 47808, 47808)
    t, inv = 0.05, 0
    while t < BACKGROUND:
        u.req(t, bacnet_confirmed(inv, 12, bac_objid(0, 0, 1) + bac_prop(85)),
              bacnet_complex_ack(inv, 12, bac_objid(0, 0, 1) + bac_prop(85)
                                 + b'\x3e\x44\x42\x28\x00\x00\x3f'))
        inv = (inv + 1) & 0xFF
        t += POLL


def bacnet_attack(cap, pdus, gap=0.05, bcast=False):
    u = Udp(cap, 'attacker', 'bcast' if bcast else 'plc', 47808, 47808, attack=True)
    t = ATTACK_AT
    for req, resp in pdus:
        u.req(t, req, resp)
        t += gap


def bac_write(inv, otype, inst, prop, value, prio=8):
    return (bacnet_confirmed(inv, 15, bac_objid(0, otype, inst) + bac_prop(prop)
                             + b'\x3e' + value + b'\x3f' + b'\x49' + bytes((prio,))),
            bacnet_simple_ack(inv, 15))


@scenario('bacnet', 'T0855', 'WriteProperty present-value of binary-output 3')
def _(cap):
    bacnet_attack(cap, [bac_write(1, 4, 3, 85, b'\x91\x01')])


@scenario('bacnet', 'T0836', 'WriteProperty analog-value 2 present-value = 1e6')
def _(cap):
    bacnet_attack(cap, [bac_write(1, 2, 2, 85, b'\x44' + struct.pack('>f', 1e6))])


@scenario('bacnet', 'T0816', 'ReinitializeDevice coldstart')
def _(cap):
    bacnet_attack(cap, [(bacnet_confirmed(1, 20, b'\x09\x00'), bacnet_simple_ack(1, 20))])


@scenario('bacnet', 'T0814', 'DeviceCommunicationControl disable')
def _(cap):
    bacnet_attack(cap, [(bacnet_confirmed(1, 17, b'\x19\x01'), bacnet_simple_ack(1, 17))])


@scenario('bacnet', 'T0846', 'Who-Is broadcast')
def _(cap):
    bacnet_attack(cap, [(bacnet_unconfirmed(8, b'', bcast=True), None)], bcast=True)


@scenario('bacnet', 'T0888', 'ReadProperty vendor, model, firmware of the device object')
def _(cap):
    bacnet_attack(cap, [(bacnet_confirmed(i, 12, bac_objid(0, 8, 1234) + bac_prop(p)),
                         bacnet_complex_ack(i, 12, bac_objid(0, 8, 1234) + bac_prop(p)
                                            + b'\x3e\x75\x04\x00ABC\x3f'))
                        for i, p in enumerate((121, 70, 44))])


@scenario('bacnet', 'T0861', 'ReadProperty object-list sweep (40 objects)')
def _(cap):
    bacnet_attack(cap, [(bacnet_confirmed(i, 12, bac_objid(0, 0, i) + bac_prop(77)), None)
                        for i in range(40)], gap=0.02)


@scenario('bacnet', 'T0849', 'TimeSynchronization from an unknown host')
def _(cap):
    bacnet_attack(cap, [(bacnet_unconfirmed(6, b'\xa4\x7c\x0c\x05\x04\xb4\x03\x00\x00\x00'),
                         None)])


@scenario('bacnet', 'T0843', 'AtomicWriteFile (program file) from an unknown host')
def _(cap):
    body = bac_objid(0, 10, 1)[1:]
    body = b'\xc4' + body + b'\x0e\x31\x00\x65\x10' + bytes(16) + b'\x0f'
    bacnet_attack(cap, [(bacnet_confirmed(1, 7, body), None)])


@scenario('bacnet', 'T0878', 'WriteProperty event-enable = none on analog-input 1')
def _(cap):
    bacnet_attack(cap, [bac_write(1, 0, 1, 35, b'\x82\x05\x00')])


@scenario('bacnet', 'T0856', 'spoofed I-Am for the device instance from another host')
def _(cap):
    iam = bac_objid(0, 8, 1234)
    iam = b'\xc4' + iam[1:] + b'\x22\x05\xc4\x91\x03\x21\x0f'
    # the real device announces itself first (background), the attacker then claims it
    u = Udp(cap, 'plc', 'bcast', 47808, 47808)
    u.req(0.5, bacnet_unconfirmed(0, iam, bcast=True))
    bacnet_attack(cap, [(bacnet_unconfirmed(0, iam, bcast=True), None)], bcast=True)


# --- OPC UA ------------------------------------------------------------------------------

def ua_open(s, t, chan):
    t = s.req(t, b'HELF' + struct.pack('<IIIIII', 56, 0, 65535, 65535, 0, 0)
              + ua_string('opc.tcp://plc:4840/ua/xx'),
              b'ACKF' + struct.pack('<IIIIII', 28, 0, 65535, 65535, 0, 0))
    pol = ua_string('http://opcfoundation.org/UA/SecurityPolicy#None')
    body = (ua_req_header(1) + struct.pack('<II', 0, 0) + struct.pack('<I', 1)
            + ua_string(None) + struct.pack('<I', 600000))
    opn = pol + ua_string(None) + ua_string(None) + struct.pack('<II', 1, 1) \
        + struct.pack('<BBH', 1, 0, 446) + body
    resp = pol + ua_string(None) + ua_string(None) + struct.pack('<II', 1, 1) \
        + struct.pack('<BBH', 1, 0, 449) + ua_resp_header(1) + struct.pack('<I', 0) \
        + struct.pack('<IIqI', chan, 1, 0, 600000) + ua_string(None)
    t = s.req(t, b'OPNF' + struct.pack('<II', 12 + len(opn), 0) + opn,
              b'OPNF' + struct.pack('<II', 12 + len(resp), chan) + resp)
    s.seq = 2
    return t


def ua_call(s, t, chan, node, body, handle, answer_body=b''):
    s.seq += 1
    return s.req(t, ua_msg(b'MSG', chan, 1, s.seq, s.seq, node,
                           ua_req_header(handle) + body),
                 ua_msg(b'MSG', chan, 1, s.seq, s.seq, node + 3,
                        ua_resp_header(handle) + answer_body))


def ua_fault(handle, status):
    """ServiceFault (i=397): a ResponseHeader whose serviceResult is status."""
    return (struct.pack('<BBH', 1, 0, 397) + struct.pack('<qII', 133000000000000000, handle,
                                                         status)
            + b'\x00' + struct.pack('<i', -1) + b'\x00\x00\x00')


def ua_session(s, t, chan, user=None, password=b'', refuse=None):
    """CreateSession + ActivateSession; refuse: the StatusCode of a ServiceFault answering
    the activation (a wrong password) instead of success."""
    t = ua_call(s, t, chan, 461, ua_string(None) * 6 + struct.pack('<dI', 60000.0, 0), 2)
    if user is None:
        token = struct.pack('<BBH', 1, 0, 321) + b'\x01' + struct.pack('<I', 4) + ua_string('a')
    else:
        tok = ua_string('u') + ua_string(user) + ua_string(password) + ua_string(None)
        token = struct.pack('<BBH', 1, 0, 324) + b'\x01' + struct.pack('<I', len(tok)) + tok
    body = ua_string(None) * 2 + struct.pack('<ii', -1, -1) + token + ua_string(None) * 2
    if refuse is None:
        return ua_call(s, t, chan, 467, body, 3)
    s.seq += 1
    req = ua_msg(b'MSG', chan, 1, s.seq, s.seq, 467, ua_req_header(3) + body)
    fault = ua_fault(3, refuse)
    resp = b'MSGF' + struct.pack('<II', 24 + len(fault), chan) \
        + struct.pack('<III', 1, s.seq, s.seq) + fault
    return s.req(t, req, resp)


def opcua_bg(cap):
    s = Tcp(cap, 'scada', 'plc', 4840)
    t = s.open(0.05)
    t = ua_open(s, t, 7)
    t = ua_session(s, t, 7)
    h = 10
    read = struct.pack('<dI', 0, 3) + struct.pack('<i', 1) + ua_node_numeric(2, 1001) \
        + struct.pack('<I', 13) + ua_string(None) + b'\x00\x00' + ua_string(None)
    while t < BACKGROUND:
        ua_call(s, t, 7, 631, read, h, struct.pack('<i', 1) + b'\x01\x0a' + struct.pack('<f', 1))
        h += 1
        t += POLL
    s.close(BACKGROUND + 0.2)


def opcua_attack(cap, calls, gap=0.05, session=True):
    s = Tcp(cap, 'attacker', 'plc', 4840, attack=True)
    t = s.open(ATTACK_AT)
    t = ua_open(s, t, 9)
    if session:
        t = ua_session(s, t, 9)
    h = 20
    for node, body in calls:
        ua_call(s, t, 9, node, body, h, struct.pack('<i', 1) + b'\x00\x00\x00\x00')
        h += 1
        t += gap
    s.close(t + 0.05)


def ua_write_body(ident, value):
    return (struct.pack('<i', 1) + ua_node_numeric(2, ident) + struct.pack('<I', 13)
            + ua_string(None) + b'\x01' + value)


@scenario('opcua', 'T0855', 'Write of a process variable from an unknown host')
def _(cap):
    opcua_attack(cap, [(673, ua_write_body(2001, b'\x01\x01'))])


@scenario('opcua', 'T0836', 'Write setpoint = 1e9 from an unknown host')
def _(cap):
    opcua_attack(cap, [(673, ua_write_body(2002, b'\x0b' + struct.pack('<d', 1e9)))])


@scenario('opcua', 'T0855', 'Call of a method (e.g. open valve) from an unknown host')
def _(cap):
    body = struct.pack('<i', 1) + ua_node_numeric(2, 10) + ua_node_numeric(2, 11) \
        + struct.pack('<i', 0)
    opcua_attack(cap, [(712, body)])


@scenario('opcua', 'T0861', 'Browse of the address space from an unknown host')
def _(cap):
    body = b'\x00\x00' + struct.pack('<qI', 0, 0) + struct.pack('<I', 0) \
        + struct.pack('<i', 1) + struct.pack('<BBH', 1, 0, 85) + struct.pack('<I', 0) \
        + b'\x00\x00' + b'\x01' + struct.pack('<II', 0, 63)
    opcua_attack(cap, [(527, body)] * 5, gap=0.03)


@scenario('opcua', 'T0888', 'Read of ServerStatus/BuildInfo (i=2260..2265)')
def _(cap):
    body = struct.pack('<dI', 0, 3) + struct.pack('<i', 3)
    for n in (2261, 2262, 2264):
        body += struct.pack('<BBH', 1, 0, n) + struct.pack('<I', 13) + ua_string(None) \
            + b'\x00\x00' + ua_string(None)
    opcua_attack(cap, [(631, body)])


@scenario('opcua', 'T0846', 'GetEndpoints / FindServers discovery')
def _(cap):
    opcua_attack(cap, [(428, ua_string('opc.tcp://plc:4840') + struct.pack('<ii', 0, 0)),
                       (422, ua_string('opc.tcp://plc:4840') + struct.pack('<ii', 0, 0))],
                 session=False)


@scenario('opcua', 'T0843', 'AddNodes / DeleteNodes (address space modification)')
def _(cap):
    opcua_attack(cap, [(500, struct.pack('<i', 1) + ua_node_numeric(2, 2001) + b'\x01')])


@scenario('opcua', 'T0806', 'ActivateSession password brute force (15 sessions)')
def _(cap):
    for i in range(15):
        s = Tcp(cap, 'attacker', 'plc', 4840, attack=True)
        t = s.open(ATTACK_AT + i * 0.1)
        t = ua_open(s, t, 30 + i)
        ua_session(s, t, 30 + i, user='admin', password=b'pass%d' % i, refuse=0x801F0000)


@scenario('opcua', 'T0814', 'Hello/OpenSecureChannel flood (60 channels)')
def _(cap):
    for i in range(60):
        s = Tcp(cap, 'attacker', 'plc', 4840, attack=True)
        ua_open(s, s.open(ATTACK_AT + i * 0.02), 100 + i)


# --- IEC 61850 MMS -----------------------------------------------------------------------

def mms_open(s, t):
    t = s.open(t)
    t = s.req(t, g.cotp_connect(0xE0, 0, 1, 0x0001, 0x0001),
              g.cotp_connect(0xD0, 1, 1, 0x0001, 0x0001))
    return s.req(t, MMS_INITIATE_REQ, None)


def mms_bg(cap):
    s = Tcp(cap, 'scada', 'plc', 102)
    t = mms_open(s, 0.05)
    inv = 1
    while t < BACKGROUND:
        s.req(t, mms_req(inv, mms_read(b'IED1LD0', b'MMXU1$MX$TotW$mag$f')),
              mms_resp(inv, ber(0xA4, ber(0xA1, ber(0x87, b'\x08\x42\x28\x00\x00')))))
        inv += 1
        t += POLL
    s.close(BACKGROUND + 0.2)


def mms_attack(cap, services, gap=0.05):
    s = Tcp(cap, 'attacker', 'plc', 102, attack=True)
    t = mms_open(s, ATTACK_AT)
    for i, svc in enumerate(services):
        s.req(t, mms_req(100 + i, svc), None)
        t += gap
    s.close(t + 0.05)


@scenario('mms', 'T0855', 'write XCBR1$CO$Pos$Oper (breaker operate) from an unknown host')
def _(cap):
    mms_attack(cap, [mms_write(b'IED1LD0', b'XCBR1$CO$Pos$Oper', b'\x83\x01\x00')])


@scenario('mms', 'T0836', 'write setting group value out of range')
def _(cap):
    mms_attack(cap, [mms_write(b'IED1LD0', b'PTOC1$SG$StrVal$setMag$f',
                               b'\x87\x05\x08\x4e\x6e\x6b\x28')])


@scenario('mms', 'T0836', 'write SGCB ActSG (change active setting group)')
def _(cap):
    mms_attack(cap, [mms_write(b'IED1LD0', b'LLN0$SP$SGCB$ActSG', b'\x86\x01\x02')])


@scenario('mms', 'T0878', 'disable report control block (RptEna = false)')
def _(cap):
    mms_attack(cap, [mms_write(b'IED1LD0', b'LLN0$BR$brcbA01$RptEna', b'\x83\x01\x00')])


@scenario('mms', 'T0888', 'identify request')
def _(cap):
    mms_attack(cap, [b'\x82\x00'])


@scenario('mms', 'T0861', 'GetNameList of domains and variables')
def _(cap):
    mms_attack(cap, [ber(0xA1, ber(0xA0, b'\x80\x01\x09') + ber(0xA1, b'\x80\x00')),
                     ber(0xA1, ber(0xA0, b'\x80\x01\x00') + ber(0xA1, b'\x81\x03LD0'))])


@scenario('mms', 'T0858', 'program invocation stop / kill')
def _(cap):
    mms_attack(cap, [ber(b'\xbf\x2c', ber(0x80, b'PROG1'))])


@scenario('mms', 'T0843', 'initiate download sequence of a domain')
def _(cap):
    mms_attack(cap, [ber(b'\xbf\x1a', ber(0x80, b'LD0') + ber(0xA1, ber(0x1A, b'c'))
                         + b'\x82\x01\x00')])


@scenario('mms', 'T0809', 'file delete')
def _(cap):
    mms_attack(cap, [ber(b'\xbf\x4c', ber(0x19, b'/COMTRADE/rec1.cfg'))])


# --- Omron FINS (UDP 9600) ---------------------------------------------------------------

def fins_bg(cap):
    u = Udp(cap, 'scada', 'plc', 9600, 9600)
    t, sid = 0.05, 0
    while t < BACKGROUND:
        u.req(t, fins(0x80, 50, 20, sid, 1, 1, b'\x82\x00\x64\x00\x00\x0a'),
              fins(0xC0, 20, 50, sid, 1, 1, b'\x00\x00' + bytes(20)))
        sid = (sid + 1) & 0xFF
        t += POLL


def fins_attack(cap, cmds, gap=0.05):
    u = Udp(cap, 'attacker', 'plc', 9600, 9600, attack=True)
    t = ATTACK_AT
    for i, (mrc, src, data) in enumerate(cmds):
        u.req(t, fins(0x80, 50, 66, i, mrc, src, data), fins(0xC0, 66, 50, i, mrc, src,
                                                               b'\x00\x00'))
        t += gap


@scenario('fins', 'T0855', 'memory area write DM100 from an unknown host (0102)')
def _(cap):
    fins_attack(cap, [(1, 2, b'\x82\x00\x64\x00\x00\x01\x12\x34')])


@scenario('fins', 'T0855', 'forced set/reset of a CIO bit (2301)')
def _(cap):
    fins_attack(cap, [(0x23, 1, b'\x00\x01\x00\x01\x30\x00\x0a\x00')])


@scenario('fins', 'T0858', 'STOP (0402)')
def _(cap):
    fins_attack(cap, [(4, 2, b'\xff\xff')])


@scenario('fins', 'T0858', 'RUN in monitor mode (0401)')
def _(cap):
    fins_attack(cap, [(4, 1, b'\xff\xff\x02')])


@scenario('fins', 'T0843', 'program area write (0307)')
def _(cap):
    fins_attack(cap, [(3, 7, b'\xff\xff\x00\x00\x00\x00\x00\x10' + bytes(16))])


@scenario('fins', 'T0845', 'program area read (0306)')
def _(cap):
    fins_attack(cap, [(3, 6, b'\xff\xff\x00\x00\x00\x00\x01\x00')])


@scenario('fins', 'T0888', 'controller data read (0501)')
def _(cap):
    fins_attack(cap, [(5, 1, b'\x00')])


@scenario('fins', 'T0849', 'clock write (0702)')
def _(cap):
    fins_attack(cap, [(7, 2, b'\x24\x12\x05\x12\x00\x00\x04')])


@scenario('fins', 'T0836', 'parameter area write (0202)')
def _(cap):
    fins_attack(cap, [(2, 2, b'\x80\x10\x00\x00\x00\x01\x00\x01')])


@scenario('fins', 'T0861', 'memory sweep: 40 area reads (0101) from an unknown host')
def _(cap):
    fins_attack(cap, [(1, 1, b'\x82' + struct.pack('>H', 100 * i) + b'\x00\x00\x64')
                      for i in range(40)], gap=0.02)


# ---------------------------------------------------------------------------

# what each service does, and the attacks around it (gen_catalogue_depth.py)
sys.path.insert(0, HERE)
import gen_catalogue_depth  # noqa: E402
gen_catalogue_depth.register(sys.modules[__name__])

BACKGROUNDS = {'modbus': modbus_bg, 'dnp3': dnp3_bg, 's7comm': s7_bg, 'iec104': iec104_bg,
               'enip': enip_bg, 'bacnet': bacnet_bg, 'opcua': opcua_bg, 'mms': mms_bg,
               'fins': fins_bg}


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    index, count = [], {}
    for n, sc in enumerate(SCENARIOS):
        proto = sc['protocol']
        count[proto] = count.get(proto, 0) + 1
        sid = '%s-%02d' % (proto, count[proto])
        cap = Capture(1000 + n)
        BACKGROUNDS[proto](cap)
        sc['fn'](cap)
        path = os.path.join(out, sid + '.pcap')
        cap.write(path)
        index.append({'id': sid, 'protocol': proto, 'technique': sc['technique'],
                      'description': sc['description'],
                      'attacker_ip': cap.hosts[sc['attacker']].ip_str,
                      'start_ts': EPOCH + min(cap.attack), 'end_ts': EPOCH + max(cap.attack),
                      'pcap': sid + '.pcap'})
    with open(os.path.join(out, 'catalogue.json'), 'w') as f:
        json.dump(index, f, indent=1)
    print('%d scenarios in %s' % (len(index), out))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
