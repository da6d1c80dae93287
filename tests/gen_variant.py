#!/usr/bin/env python3
"""gen_variant.py SCENARIO OUT.pcap [generator options...]: the shared
generator (../shared/tools/ics_traffic_gen.py) on another plant than its
own, with an attacker that copies the victim's whole stack.

Robustness check for tests/eval_variant.py: detection logic must not fit
the generator's numbers.  The scenario is rewritten before generation:

  addresses   10.10.2.X -> 172.20.9.(X+7), 10.0.X.Y -> 172.16.X.Y; every
              MAC's fourth byte XOR 0x5a (other vendors' NICs, same OUI
              rule: unique as before)
  timing      every poll interval x 0.7, jitter 0.08; the first request
              of a cycle comes at another phase
  ICS ids     DNP3 master / outstation link addresses + 100, integrity
              poll every integrity_every + 2; Modbus unit id 3 (not 1)
  attacks     15 s later; rogue master 3.5 req/s (not 2), register sweep
              1 read / 1.5 s (below modbus.address_scan's 32 per 60 s),
              DNP3 address scan slower (0.4 s) over 100-130, the
              masquerade without its unsolicited flood, replay of 5
              writes 2.5 s apart
  stack       a spoofing attacker sends with the claimed host's own TTL,
              TCP window, SYN options, ephemeral ports and IP-ID counter
              (it continues the victim's series), and its MAC: only
              sequence space, timing, the cycle and the values are left
              to tell it apart.

Generator options (--out, --labels, --seed, --start-time, --duration)
pass through.  --accept-reconnects (ours): the outstation accepts the
real master's reconnects during the DNP3 hijack (single_connection
false), so two sessions from the master's address poll it at once.
Deterministic, like the generator.
"""
import importlib.util
import json
import os
import re
import sys
import tempfile

SHARED = os.environ.get('SHARED', os.path.join(os.path.dirname(__file__), '..', '..', 'shared'))
GEN = os.path.join(SHARED, 'tools', 'ics_traffic_gen.py')

POLL_PROTOCOLS = ('modbus', 's7comm', 'dnp3', 'iec104', 'enip')


def load_gen():
    spec = importlib.util.spec_from_file_location('ics_traffic_gen', GEN)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def copy_stack(gen):
    """Impersonation that copies the claimed host's stack, IP-ID series included."""
    base = gen.Impersonation

    class FullCopy(base):
        def __init__(self, stack, claimed, mac=None):
            super().__init__(stack, claimed, mac)
            self.ttl, self.window, self.syn_options, self.port_range = (
                claimed.ttl, claimed.window, claimed.syn_options, claimed.port_range)
            self.mss = claimed.mss

        @property
        def ip_id(self):
            return self.claimed.ip_id

        @ip_id.setter
        def ip_id(self, value):
            self.claimed.ip_id = value

        def ephemeral_port(self):
            return self.claimed.ephemeral_port()

    gen.Impersonation = FullCopy


def readdress(text):
    def ip(m):
        return '172.20.9.%d' % (int(m.group(1)) + 7)
    text = re.sub(r'\b10\.10\.2\.(\d+)\b', ip, text)
    text = re.sub(r'\b10\.0\.(\d+)\.(\d+)\b', r'172.16.\1.\2', text)
    return text


def remac(mac):
    b = mac.split(':')
    b[3] = '%02x' % (int(b[3], 16) ^ 0x5a)
    return ':'.join(b)


def rewrite(s, accept_reconnects=False):
    s = json.loads(readdress(json.dumps(s)))
    s['name'] = s.get('name', 'plant') + '-variant'
    for h in s['hosts']:
        h['mac'] = remac(h['mac'])
        if h.get('role') == 'plc' and 'plc-mb' in h['name']:
            h['modbus_units'] = [3]
    for c in s.get('conversations', []):
        if c.get('protocol') in POLL_PROTOCOLS and 'interval' in c:
            c['interval'] = round(c['interval'] * 0.7, 4)
            c['jitter'] = 0.08
        if c.get('protocol') == 'modbus':
            c['unit_id'] = 3
        if c.get('protocol') == 'dnp3':
            c['master_address'] = c.get('master_address', 1) + 100
            c['outstation_address'] = c.get('outstation_address', 10) + 100
            c['integrity_every'] = c.get('integrity_every', 10) + 2
    for a in s.get('attacks', []):
        a['start'] = a['start'] + 15
        k = a['kind']
        if 'unit_id' in a or k in ('modbus_fake_command', 'modbus_characterization'):
            a['unit_id'] = 3
        if k == 'dnp3_rogue_master':
            a['rate'] = 3.5
        elif k == 'modbus_characterization':
            a['rate'] = 1 / 1.5
        elif k == 'dnp3_address_scan':
            a['interval'] = 0.4
            a['destinations'] = [100, 130]
            a['sources'] = [101, 101]
        elif k == 'dnp3_outstation_masquerade':
            a['flood_rate'] = 0
            a['duration'] = 60
        elif k == 'modbus_replay':
            a['count'] = 5
            a['interval'] = 2.5
        elif k == 'dnp3_master_hijack' and accept_reconnects:
            a['single_connection'] = False
    if 'duration' in s:
        s['duration'] = s['duration'] + 30
    return s


def main():
    args = [a for a in sys.argv[1:] if a != '--accept-reconnects']
    scenario, out = args[0], args[1]
    s = rewrite(json.load(open(scenario)), '--accept-reconnects' in sys.argv[1:])
    gen = load_gen()
    copy_stack(gen)
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump(s, f)
        path = f.name
    try:
        return gen.main(['--scenario', path, '--out', out] + args[2:])
    finally:
        os.unlink(path)


if __name__ == '__main__':
    sys.exit(main() or 0)
