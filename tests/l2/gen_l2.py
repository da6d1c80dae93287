#!/usr/bin/env python3
"""gen_l2.py - deterministic substation / PROFINET / IIoT scenario captures.

../shared/tools/ics_traffic_gen.py has no GOOSE, Sampled Values, PROFINET
DCP, LLDP or MMS, and its MQTT gateway only publishes telemetry.  This
generator writes a small cell that has them: two protection IEDs and a
bay controller publishing GOOSE, a merging unit streaming SV, a SCADA
client polling an IED over MMS, a PROFINET controller and devices
answering DCP, a switch sending LLDP, and an MQTT broker with a gateway,
an HMI and a monitoring client.

    gen_l2.py --out DIR [--broker IP:PORT]

writes DIR/l2-drift.pcap (the benign cell with a burst of legitimate-
looking GOOSE state changes and two unexpected DCP stations, for the
learned baseline), DIR/l2-benign.pcap (normal operation, including the "benign twins"
of every attack: the allowed engineering station writing over MMS and
setting a PROFINET name, a known client publishing a command and
subscribing to $SYS, a legitimate GOOSE state change, one failed MQTT
login) and DIR/l2-attacks.pcap with DIR/l2-attacks.labels.json (the same
traffic plus one labeled attack per detector).  Label fields follow
ics_traffic_gen.py (id, kind, attack_technique, src_ip, dst_ip, start_ts,
end_ts, packet_count, description) plus src_mac: for layer-2 attacks
src_ip is null and the attack is matched by source MAC.  The policy that
goes with the cell is tests/eval/l2.conf.  Standard library only; the
output is byte-identical on every run.
"""
import argparse
import json
import os
import struct

START = 1767600000.0            # 2026-01-05T08:00:00Z
DURATION = 125.0

# ---- hosts ------------------------------------------------------------------
MAC = {
    'ied1': '00:30:a7:00:00:01', 'ied2': '00:30:a7:00:00:02',
    'ied3': '00:30:a7:00:00:03', 'mu1': '00:30:a7:00:00:10',
    'scada': '00:1c:06:00:00:14', 'ews': '00:1c:06:00:00:1e',
    'plc': '00:1b:1b:00:00:0a', 'io1': '00:1b:1b:00:00:0b',
    'switch': '00:0e:8c:00:00:01', 'broker': '00:16:3e:00:00:32',
    'gw': '00:16:3e:00:00:3c', 'hmi': '00:1c:06:00:00:15',
    'mon': '00:16:3e:00:00:3d', 'evil': '02:00:00:00:00:66',
}
IP = {
    'ied1': '10.20.1.10', 'scada': '10.20.1.20', 'hmi': '10.20.1.21',
    'ews': '10.20.1.30', 'broker': '10.20.1.50', 'gw': '10.20.1.60',
    'mon': '10.20.1.61', 'evil': '10.20.1.66',
}
MQTT_PORT = 1883
GOOSE_MC = '01:0c:cd:01:00:01'
SV_MC = '01:0c:cd:04:00:01'
DCP_MC = '01:0e:cf:00:00:00'
LLDP_MC = '01:80:c2:00:00:0e'


def mac(s):
    return bytes(int(x, 16) for x in s.split(':'))


def ip4(s):
    return bytes(int(x) for x in s.split('.'))


# ---- BER ---------------------------------------------------------------------
def blen(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82, n >> 8, n & 255])


def tlv(tag, content):
    tag = bytes([tag]) if isinstance(tag, int) else bytes(tag)
    return tag + blen(len(content)) + content


def bint(v, width=None):
    if width:
        return v.to_bytes(width, 'big')
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), 'big', signed=True)
    return b


# ---- frames --------------------------------------------------------------------
def eth(dst, src, etype, payload, vlan=None):
    f = mac(dst) + mac(src)
    if vlan is not None:
        f += struct.pack('!HH', 0x8100, (4 << 13) | vlan)
    f += struct.pack('!H', etype) + payload
    return f + b'\0' * max(0, 60 - len(f))


def goose(appid, ref, st, sq, tal, data, conf=1, sim=False, t=0.0):
    secs = int(t)
    frac = int((t - secs) * (1 << 24))
    alldata = b''.join(tlv(0x83, b'\x01' if v else b'\x00') for v in data)
    pdu = (tlv(0x80, ref.encode()) + tlv(0x81, bint(tal)) +
           tlv(0x82, (ref.split('$')[0] + '$DS1').encode()) +
           tlv(0x83, ref.split('/')[0].encode()) +
           tlv(0x84, struct.pack('!I', secs) + frac.to_bytes(3, 'big') + b'\x0a') +
           tlv(0x85, bint(st)) + tlv(0x86, bint(sq)) +
           tlv(0x87, b'\xff' if sim else b'\x00') + tlv(0x88, bint(conf)) +
           tlv(0x89, b'\x00') + tlv(0x8a, bint(len(data))) + tlv(0xab, alldata))
    body = tlv(0x61, pdu)
    return struct.pack('!HHHH', appid, 8 + len(body), 0, 0) + body


def sv(appid, svid, cnt):
    seq = b''.join(struct.pack('!iI', (cnt * 37 + k * 1000) % 20000 - 10000, 0)
                   for k in range(8))
    asdu = (tlv(0x80, svid.encode()) + tlv(0x82, struct.pack('!H', cnt)) +
            tlv(0x83, struct.pack('!I', 1)) + tlv(0x85, b'\x02') + tlv(0x87, seq))
    body = tlv(0x60, tlv(0x80, b'\x01') + tlv(0xa2, tlv(0x30, asdu)))
    return struct.pack('!HHHH', appid, 8 + len(body), 0, 0) + body


def dcp(frame_id, service, stype, xid, blocks, delay=0):
    data = b''
    for opt, sub, val in blocks:
        b = struct.pack('!BBH', opt, sub, len(val)) + val
        data += b + (b'\0' if len(val) % 2 else b'')
    return struct.pack('!HBBIHH', frame_id, service, stype, xid, delay,
                       len(data)) + data


def lldp(chassis, port, name, mgmt_ip):
    def t(ty, v):
        return struct.pack('!H', ty << 9 | len(v)) + v
    return (t(1, b'\x04' + mac(chassis)) + t(2, b'\x05' + port.encode()) +
            t(3, struct.pack('!H', 120)) + t(5, name.encode()) +
            t(6, b'SCALANCE XC208') + t(7, struct.pack('!HH', 4, 4)) +
            t(8, b'\x05\x01' + ip4(mgmt_ip) + b'\x02\x00\x00\x00\x01\x00') + t(0, b''))


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


class Tcp:
    """One TCP session with real handshake, seq/ack, checksums."""
    def __init__(self, w, cli, srv, sport, dport):
        self.w, self.cli, self.srv = w, cli, srv
        self.sport, self.dport = sport, dport
        self.seq = {True: 1000 + sport, False: 5000 + dport}

    def _seg(self, t, from_cli, flags, data=b''):
        a, b = (self.cli, self.srv) if from_cli else (self.srv, self.cli)
        sp, dp = (self.sport, self.dport) if from_cli else (self.dport, self.sport)
        seq, ack = self.seq[from_cli], self.seq[not from_cli]
        tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack if flags & 0x10 else 0,
                          5 << 4, flags, 64240, 0, 0) + data
        pseudo = ip4(IP[a]) + ip4(IP[b]) + struct.pack('!BBH', 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
        iph = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6,
                          0, ip4(IP[a]), ip4(IP[b]))
        iph = iph[:10] + struct.pack('!H', csum(iph)) + iph[12:]
        self.w.add(t, eth(MAC[b], MAC[a], 0x0800, iph + tcp))
        self.seq[from_cli] = (seq + len(data) + (1 if flags & 0x03 else 0)) & 0xffffffff

    def open(self, t):
        self._seg(t, True, 0x02)
        self._seg(t + 0.0002, False, 0x12)
        self._seg(t + 0.0004, True, 0x10)

    def send(self, t, from_cli, data):
        self._seg(t, from_cli, 0x18, data)
        self._seg(t + 0.0003, not from_cli, 0x10)

    def close(self, t):
        self._seg(t, True, 0x11)
        self._seg(t + 0.0002, False, 0x11)
        self._seg(t + 0.0004, True, 0x10)


# ---- MMS ------------------------------------------------------------------------
def mms_dt(pdu):
    pres = tlv(0x61, tlv(0x30, tlv(0x02, b'\x03') + tlv(0xa0, pdu)))
    body = b'\x02\xf0\x80' + b'\x01\x00\x01\x00' + pres
    return struct.pack('!BBH', 3, 0, 4 + len(body)) + body


def mms_assoc(spdu, acse_tag, init_tag):
    init = tlv(init_tag, tlv(0x80, bint(64000)) + tlv(0x81, b'\x05') +
               tlv(0x82, b'\x05') + tlv(0x83, b'\x05'))
    acse = tlv(acse_tag, tlv(0xa1, tlv(0x06, b'\x28\xca\x22\x02\x03')) +
               tlv(0xbe, tlv(0x28, tlv(0x02, b'\x03') + tlv(0xa0, init))))
    ber = tlv(0x30, tlv(0x06, b'\x51\x01'))
    ctx = tlv(0xa4, tlv(0x30, tlv(0x02, b'\x01') + tlv(0x06, b'\x52\x01\x00\x01') + ber) +
              tlv(0x30, tlv(0x02, b'\x03') + tlv(0x06, b'\x28\xca\x22\x02\x01') + ber))
    if init_tag == 0xa9:    # CPA-type: the result list instead
        ctx = tlv(0xa5, tlv(0x30, tlv(0x80, b'\x00') + tlv(0x81, b'\x51\x01')) +
                  tlv(0x30, tlv(0x80, b'\x00') + tlv(0x81, b'\x51\x01')))
    cp = tlv(0x31, tlv(0xa0, tlv(0x80, b'\x01')) +
             tlv(0xa2, ctx + tlv(0x61, tlv(0x30, tlv(0x02, b'\x01') + tlv(0xa0, acse)))))
    ses = bytes([spdu]) + blen(len(cp) + 2) + bytes([0xc1]) + blen(len(cp)) + cp
    body = b'\x02\xf0\x80' + ses
    return struct.pack('!BBH', 3, 0, 4 + len(body)) + body


def cotp(kind):
    body = bytes([6, kind]) + b'\x00\x00\x00\x01\x00'
    return struct.pack('!BBH', 3, 0, 4 + len(body)) + body


def dom_name(d, i):
    return tlv(0xa1, tlv(0x1a, d.encode()) + tlv(0x1a, i.encode()))


def mms_req(inv, svc):
    return mms_dt(tlv(0xa0, tlv(0x02, bint(inv)) + svc))


def mms_resp(inv, svc_tag):
    return mms_dt(tlv(0xa1, tlv(0x02, bint(inv)) + tlv(svc_tag, b'')))


READ = lambda item: tlv(0xa4, tlv(0xa1, tlv(0xa0, tlv(0x30, tlv(0xa0, dom_name('IED1LD0', item))))))
WRITE = lambda item: tlv(0xa5, tlv(0xa0, tlv(0x30, tlv(0xa0, dom_name('IED1LD0', item)))) +
                         tlv(0xa0, tlv(0x83, b'\x01')))
GNL = tlv(0xa1, tlv(0xa0, tlv(0x80, b'\x09')) + tlv(0xa1, tlv(0x80, b'')))
STOP = tlv([0xbf, 0x29], tlv(0x80, b'PROT1'))
KILL = tlv([0xbf, 0x2c], tlv(0x80, b'PROT1'))
DOWNLOAD = tlv([0xbf, 0x1a], tlv(0x80, b'IED1LD0') + tlv(0xa1, tlv(0x1a, b'x')) + tlv(0x82, b'\x00'))
DELDOM = tlv([0x9f, 0x24], b'IED1LD0')
FDEL = tlv([0xbf, 0x4c], tlv(0x19, b'/cfg/ied1.cid'))
REPORT = mms_dt(tlv(0xa3, tlv(0xa0, tlv(0xa1, tlv(0x80, b'RPT1')) +
                                tlv(0xa0, tlv(0x83, b'\x01')))))


# ---- MQTT -----------------------------------------------------------------------
def mstr(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack('!H', len(s)) + s


def mpkt(h, body):
    n, rl = len(body), b''
    while True:
        b = n & 0x7f
        n >>= 7
        rl += bytes([b | (0x80 if n else 0)])
        if not n:
            break
    return bytes([h]) + rl + body


def m_connect(cid, user=None, pw=None):
    flags = 0x02 | (0x80 if user else 0) | (0x40 if pw else 0)
    body = mstr('MQTT') + bytes([4, flags]) + struct.pack('!H', 30) + mstr(cid)
    if user:
        body += mstr(user)
    if pw:
        body += mstr(pw)
    return mpkt(0x10, body)


def m_publish(topic, payload):
    return mpkt(0x30, mstr(topic) + payload.encode())


def m_subscribe(pid, topic):
    return mpkt(0x82, struct.pack('!H', pid) + mstr(topic) + b'\x00')


# ---- writer ----------------------------------------------------------------------
class Writer:
    def __init__(self):
        self.pkts = []

    def add(self, t, frame):
        self.pkts.append((round(t, 6), len(self.pkts), frame))

    def write(self, path):
        self.pkts.sort()
        with open(path, 'wb') as f:
            f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for t, _, fr in self.pkts:
                ts = START + t
                sec = int(ts)
                usec = int(round((ts - sec) * 1e6))
                f.write(struct.pack('<IIII', sec, usec, len(fr), len(fr)) + fr)
        return [t for t, _, _ in self.pkts]


class Labels:
    def __init__(self):
        self.items = []

    def add(self, kind, tech, start, end, src_mac, src_ip, dst_ip, count, desc):
        self.items.append({
            'id': 'L%02d' % (len(self.items) + 1), 'kind': kind,
            'attack_technique': tech, 'src_ip': src_ip, 'src_mac': src_mac,
            'dst_ip': dst_ip, 'start_ts': START + start, 'end_ts': START + end,
            'packet_count': count, 'description': desc})


# ---- the cell ---------------------------------------------------------------------
REF = {'ied1': 'IED1LD0/LLN0$GO$gcbTrip', 'ied2': 'IED2LD0/LLN0$GO$gcbIntlk',
       'ied3': 'BAY1LD0/LLN0$GO$gcbPos'}
APPID = {'ied1': 0x3001, 'ied2': 0x3002, 'ied3': 0x3003}


class Goose:
    """A publisher: 1 s heartbeat, state changes retransmitted fast."""
    def __init__(self, w, name, until=DURATION):
        self.w, self.name, self.st, self.sq = w, name, 1, 0
        self.data, self.until, self.conf = [False, False, True], until, 1

    def frame(self, t, src=None, st=None, sq=None, data=None, sim=False, conf=None):
        return eth(GOOSE_MC, src or MAC[self.name], 0x88b8,
                   goose(APPID[self.name], REF[self.name],
                         self.st if st is None else st, self.sq if sq is None else sq,
                         2000, self.data if data is None else data,
                         conf or self.conf, sim, START + t), vlan=0)

    def run(self, changes=()):
        t = 0.1 + 0.05 * int(self.name[-1])
        changes = sorted(changes)
        while t < self.until:
            if changes and t >= changes[0]:
                tc = changes.pop(0)
                self.st += 1
                self.sq = 0
                self.data = [not self.data[0]] + self.data[1:]
                for dt in (0, 0.004, 0.008, 0.016, 0.032):
                    self.w.add(tc + dt, self.frame(tc + dt))
                    self.sq += 1
                t = tc + 1.0
                continue
            self.w.add(t, self.frame(t))
            self.sq += 1
            t += 1.0


def benign(w):
    g = {n: Goose(w, n) for n in ('ied1', 'ied2', 'ied3')}
    g['ied1'].run(changes=[40.0])       # a legitimate trip and its reset
    g['ied2'].run()
    return g


def cell(attacks, lab, ied2_changes=()):
    w = Writer()
    g = {n: Goose(w, n, until=(85.0 if attacks and n == 'ied3' else DURATION))
         for n in ('ied1', 'ied2', 'ied3')}
    g['ied1'].run(changes=[40.0])
    g['ied2'].run(changes=ied2_changes)
    g['ied3'].run()
    # SV: 20 frames/s from the merging unit
    for k in range(int(DURATION * 20)):
        w.add(0.013 + k * 0.05, eth(SV_MC, MAC['mu1'], 0x88ba, sv(0x4001, 'MU1SV', k % 4000), vlan=0))
    # LLDP from the switch every 30 s
    for k in range(5):
        w.add(1.0 + 30 * k, eth(LLDP_MC, MAC['switch'], 0x88cc,
                                lldp(MAC['switch'], 'port-3', 'sw-bay1', '10.20.1.2')))
    # PROFINET: the engineering station identifies all, both devices answer
    w.add(5.0, eth(DCP_MC, MAC['ews'], 0x8892,
                   dcp(0xfefe, 5, 0, 1, [(0xff, 0xff, b'')], delay=1)))
    for k, (dev, name, role) in enumerate((('plc', 'plc-1', 2), ('io1', 'io-1', 1))):
        w.add(5.01 + k * 0.003, eth(MAC['ews'], MAC[dev], 0x8892, dcp(0xfeff, 5, 1, 1, [
            (2, 2, b'\0\0' + name.encode()), (2, 1, b'\0\0S7-1500'),
            (2, 3, b'\0\0' + struct.pack('!HH', 0x002a, 0x010d if role == 2 else 0x0301)),
            (2, 4, b'\0\0' + bytes([role, 0])),
            (1, 2, b'\0\1' + ip4('10.20.2.%d' % (10 + k)) + ip4('255.255.255.0') + ip4('10.20.2.1'))])))
    # benign twin: the allowed engineering station renames io-1
    w.add(50.0, eth(MAC['io1'], MAC['ews'], 0x8892,
                    dcp(0xfefd, 4, 0, 2, [(2, 2, b'\0\1io-1a')])))
    w.add(50.002, eth(MAC['ews'], MAC['io1'], 0x8892,
                      dcp(0xfefd, 4, 1, 2, [(5, 4, b'\x02\x02\x00')])))
    # MMS: SCADA polls IED1, reports come back
    s = Tcp(w, 'scada', 'ied1', 49200, 102)
    s.open(2.0)
    s.send(2.001, True, cotp(0xe0))
    s.send(2.002, False, cotp(0xd0))
    s.send(2.003, True, mms_assoc(0x0d, 0x60, 0xa8))
    s.send(2.005, False, mms_assoc(0x0e, 0x61, 0xa9))
    inv = 1
    t = 3.0
    while t < DURATION - 1:
        s.send(t, True, mms_req(inv, READ('MMXU1$MX$TotW')))
        s.send(t + 0.004, False, mms_resp(inv, 0xa4))
        s.send(t + 0.5, False, REPORT)
        inv += 1
        t += 2.0
    # benign twin: the engineering station (an mms_writer) writes a setpoint
    e = Tcp(w, 'ews', 'ied1', 49300, 102)
    e.open(45.0)
    e.send(45.001, True, cotp(0xe0))
    e.send(45.002, False, cotp(0xd0))
    e.send(45.003, True, mms_assoc(0x0d, 0x60, 0xa8))
    e.send(45.005, False, mms_assoc(0x0e, 0x61, 0xa9))
    e.send(45.1, True, mms_req(1, GNL))
    e.send(45.2, True, mms_req(2, WRITE('PTOC1$SP$StrVal')))
    e.send(45.21, False, mms_resp(2, 0xa5))
    e.close(46.0)
    # MQTT: broker, gateway telemetry, HMI commands, monitoring
    gw = Tcp(w, 'gw', 'broker', 40001, MQTT_PORT)
    gw.open(1.5)
    gw.send(1.6, True, m_connect('gw-1'))
    gw.send(1.61, False, mpkt(0x20, b'\x00\x00'))
    for k in range(int(DURATION) - 3):
        gw.send(2.0 + k, True, m_publish('plant/line1/temp', '%d.5' % (60 + k % 7)))
    hmi = Tcp(w, 'hmi', 'broker', 40002, MQTT_PORT)
    hmi.open(3.0)
    hmi.send(3.1, True, m_connect('hmi-1'))
    hmi.send(3.11, False, mpkt(0x20, b'\x00\x00'))
    hmi.send(10.0, True, m_publish('plant/line1/cmd/valve1', 'open'))
    hmi.send(70.0, True, m_publish('plant/line1/cmd/valve1', 'close'))   # twin
    mon = Tcp(w, 'mon', 'broker', 40003, MQTT_PORT)
    mon.open(4.0)
    mon.send(4.1, True, m_connect('mon-1'))
    mon.send(4.11, False, mpkt(0x20, b'\x00\x00'))
    mon.send(4.2, True, m_subscribe(1, '$SYS/#'))
    mon.send(4.21, False, mpkt(0x90, b'\x00\x01\x00'))
    mon.send(80.0, True, m_subscribe(2, '$SYS/#'))                       # twin
    mon.send(80.01, False, mpkt(0x90, b'\x00\x02\x00'))
    # one failed login (a typo), then success
    f = Tcp(w, 'gw', 'broker', 40004, MQTT_PORT)
    f.open(20.0)
    f.send(20.1, True, m_connect('gw-2'))
    f.send(20.11, False, mpkt(0x20, b'\x00\x05'))
    f.close(20.2)
    if attacks:
        attack(w, g, lab)
    return w


def drift():
    """After --learn on l2-benign.pcap: what the layer-2 baseline flags.
    IED2 changes state 8 times in 8 s (each stNum + 1, from its own MAC:
    nothing the GOOSE rules see); plc-1 answers Identify with another name;
    a station never seen answers too."""
    w = cell(False, None, ied2_changes=[30.0 + k for k in range(8)])
    for t, src, name in ((60.0, 'plc', 'plc-x'), (60.01, 'evil', 'plc-1')):
        w.add(t, eth(MAC['ews'], MAC[src], 0x8892, dcp(0xfeff, 5, 1, 9, [
            (2, 2, b'\0\0' + name.encode()), (2, 1, b'\0\0S7-1500'),
            (2, 3, b'\0\0' + struct.pack('!HH', 0x002a, 0x010d)),
            (2, 4, b'\0\0' + bytes([2, 0]))])))
    return w


def attack(w, g, lab):
    e = MAC['evil']
    ied1, ied2 = g['ied1'], g['ied2']
    # GOOSE: a trip from a MAC never seen for IED1's gocbRef
    for k, dt in enumerate((0, 0.004, 0.008)):
        w.add(60.0 + dt, ied1.frame(60.0 + dt, src=e, st=ied1.st + 1, sq=k,
                                    data=[True, True, True]))
    lab.add('goose_new_publisher', 'T0856', 60.0, 60.008, e, None, None, 3,
            'GOOSE state change for %s from a MAC never seen publishing it' % REF['ied1'])
    # GOOSE: stNum jump in IED2's stream (spoofed source MAC)
    w.add(65.0, ied2.frame(65.0, st=ied2.st + 50, sq=0))
    lab.add('goose_stnum_jump', 'T0856', 65.0, 65.0, MAC['ied2'], None, None, 1,
            'stNum jumps by 50 in %s' % REF['ied2'])
    # GOOSE: replay of an old frame of IED1's stream (same stNum, sqNum reset)
    w.add(70.5, ied1.frame(70.5, st=ied1.st, sq=0))
    lab.add('goose_sqnum_reset', 'T0830', 70.5, 70.5, MAC['ied1'], None, None, 1,
            'sqNum back to 0 without a state change (replay)')
    # GOOSE: simulation flag on the production network
    w.add(75.5, ied1.frame(75.5, src=e, st=ied1.st + 1, sq=0, sim=True))
    lab.add('goose_simulation', 'T0856', 75.5, 75.5, e, None, None, 1,
            'GOOSE with simulation=true')
    # GOOSE: configuration revision change
    w.add(78.5, ied1.frame(78.5, src=e, conf=7))
    lab.add('goose_confrev_change', 'T0856', 78.5, 78.5, e, None, None, 1,
            'confRev 1 -> 7 for %s' % REF['ied1'])
    # GOOSE: BAY1 stops publishing at 85 s (TAL 2 s)
    lab.add('goose_heartbeat_missing', 'T0814', 84.2, 90.0, MAC['ied3'], None, None, 0,
            'no GOOSE from %s beyond twice its TAL' % REF['ied3'])
    # SV: a second source for MU1SV
    for k in range(5):
        w.add(88.0 + k * 0.05, eth(SV_MC, e, 0x88ba, sv(0x4001, 'MU1SV', 100 + k), vlan=0))
    lab.add('sv_second_source', 'T0856', 88.0, 88.2, e, None, None, 5,
            'SV stream MU1SV from a second source MAC')
    # MMS from the attacker laptop
    a = Tcp(w, 'evil', 'ied1', 51000, 102)
    a.open(94.0)
    a.send(94.001, True, cotp(0xe0))
    a.send(94.002, False, cotp(0xd0))
    a.send(94.003, True, mms_assoc(0x0d, 0x60, 0xa8))
    a.send(94.005, False, mms_assoc(0x0e, 0x61, 0xa9))
    for inv, (t, svc, kind, tech, what) in enumerate((
            (95.0, WRITE('XCBR1$CO$Pos$Oper'), 'mms_write', 'T0855', 'write to XCBR1$CO$Pos$Oper'),
            (97.0, STOP, 'mms_program_stop', 'T0858', 'stop program invocation PROT1'),
            (98.0, KILL, 'mms_program_kill', 'T0816', 'kill program invocation PROT1'),
            (99.0, DOWNLOAD, 'mms_download', 'T0843', 'initiate download sequence'),
            (101.0, DELDOM, 'mms_delete_domain', 'T0816', 'delete domain IED1LD0'),
            (103.0, FDEL, 'mms_file_delete', 'T0855', 'delete file /cfg/ied1.cid'),
            (105.0, GNL, 'mms_get_name_list', 'T0888', 'getNameList of the domains')), 1):
        a.send(t, True, mms_req(inv, svc))
        lab.add(kind, tech, t, t, e, IP['evil'], IP['ied1'], 2, 'MMS ' + what)
    a.close(106.0)
    # PROFINET DCP Set and Identify-all from the attacker
    w.add(108.0, eth(MAC['plc'], e, 0x8892, dcp(0xfefd, 4, 0, 0x66, [
        (1, 2, b'\0\1' + ip4('10.20.2.66') + ip4('255.255.255.0') + ip4('10.20.2.1'))])))
    lab.add('dcp_set_ip', 'T0855', 108.0, 108.0, e, None, None, 1, 'DCP Set IP of plc-1')
    w.add(109.0, eth(MAC['plc'], e, 0x8892, dcp(0xfefd, 4, 0, 0x67, [(2, 2, b'\0\1plc-x')])))
    lab.add('dcp_set_name', 'T0855', 109.0, 109.0, e, None, None, 1, 'DCP Set NameOfStation')
    w.add(110.0, eth(MAC['io1'], e, 0x8892, dcp(0xfefd, 4, 0, 0x68, [(5, 6, b'\0\2')])))
    lab.add('dcp_factory_reset', 'T0816', 110.0, 110.0, e, None, None, 1, 'DCP reset to factory')
    w.add(111.0, eth(DCP_MC, e, 0x8892, dcp(0xfefe, 5, 0, 0x69, [(0xff, 0xff, b'')], delay=1)))
    lab.add('dcp_identify_all', 'T0846', 111.0, 111.0, e, None, None, 1, 'DCP Identify all')
    # MQTT from the attacker
    m = Tcp(w, 'evil', 'broker', 52000, MQTT_PORT)
    m.open(112.5)
    m.send(112.6, True, m_connect('evil'))
    m.send(112.61, False, mpkt(0x20, b'\x00\x00'))
    m.send(113.0, True, m_publish('plant/line1/cmd/valve1', 'open'))
    lab.add('mqtt_command_publish', 'T0855', 113.0, 113.0, e, IP['evil'], IP['broker'], 1,
            'publish to a command topic by a client never seen publishing there')
    m.send(115.0, True, m_subscribe(1, '#'))
    lab.add('mqtt_wildcard_subscribe', 'T0888', 115.0, 115.0, e, IP['evil'], IP['broker'], 1,
            'subscribe to # from an unknown client')
    m.close(116.0)
    for k in range(6):
        b = Tcp(w, 'evil', 'broker', 52100 + k, MQTT_PORT)
        t = 117.0 + k * 0.5
        b.open(t)
        b.send(t + 0.05, True, m_connect('evil', 'admin', 'guess%d' % k))
        b.send(t + 0.06, False, mpkt(0x20, b'\x00\x04'))
        b.close(t + 0.1)
    lab.add('mqtt_login_guessing', 'T0859', 117.0, 119.7, e, IP['evil'], IP['broker'], 42,
            'six refused CONNECTs from one client')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--broker', metavar='IP:PORT',
                    help='put the MQTT broker there (default 10.20.1.50:1883)')
    args = ap.parse_args()
    global MQTT_PORT
    if args.broker:
        host, port = args.broker.rsplit(':', 1)
        IP['broker'], MQTT_PORT = host, int(port)
    os.makedirs(args.out, exist_ok=True)
    cell(False, None).write(os.path.join(args.out, 'l2-benign.pcap'))
    lab = Labels()
    cell(True, lab).write(os.path.join(args.out, 'l2-attacks.pcap'))
    drift().write(os.path.join(args.out, 'l2-drift.pcap'))
    with open(os.path.join(args.out, 'l2-attacks.labels.json'), 'w') as f:
        json.dump(lab.items, f, indent=2)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
