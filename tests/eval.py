#!/usr/bin/env python3
"""make eval: detection quality of icsentry-agent on labeled scenarios.

For each attack scenario: generate the capture and its labels with
../shared/tools/ics_traffic_gen.py, replay it through build/icsentry-agent
and count an attack as detected when an alert names the attacker (src ip,
or for spoofing kinds the spoofed or the real attacker's ip) with the
labeled ATT&CK technique inside the attack's time window
[start_ts, end_ts + 1 s].  The techniques each attack was caught with are
listed per kind, so a change shows what it gained or lost.

Two modes here (tests/eval_learn.py adds learn-then-detect):
  policy     the scenario's [policy] (tests/eval/factory*.conf)
  no config  no [policy], no baseline: only the kinds whose class needs no
             knowledge of the plant must be caught (NOCONFIG_KINDS)

The benign twin of each plant, generated with another seed and on another
day than the attack capture, gives the false positives: alerts of
severity low or above.  Exit status 1 if any required attack is missed or
any false positive appears, so the target can gate a change.
"""
import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone

BUILD = os.environ.get('BUILD', 'build')
SHARED = os.environ.get('SHARED', '../shared')
GEN = os.path.join(SHARED, 'tools', 'ics_traffic_gen.py')
SCN = os.path.join(SHARED, 'tools', 'scenarios')
AGENT = os.path.join(BUILD, 'icsentry-agent')
OUT = os.path.join(BUILD, 'eval')
NOCONF = os.path.join(OUT, 'noconfig.conf')
SEV = ['info', 'low', 'medium', 'high', 'critical']
TOLERANCE = 1.0

# plant -> its policy, its benign twin, its attack captures
PLANTS = {
    'factory': {
        'conf': 'tests/eval/factory.conf',
        'benign': os.path.join(SCN, 'factory-benign.json'),
        'attacks': [
            ('factory-attacks', os.path.join(SCN, 'factory-attacks.json')),
            ('factory-more-attacks', 'tests/eval/factory-more-attacks.json'),
        ],
    },
    'factory-advanced': {
        'conf': 'tests/eval/factory-advanced.conf',
        'benign': os.path.join(SCN, 'factory-advanced-benign.json'),
        'attacks': [
            ('factory-advanced-attacks', os.path.join(SCN, 'factory-advanced-attacks.json')),
            # the same attacks from a stack that copies the RTUs' (TTL, window, options)
            ('factory-advanced-copycat', 'tests/eval/factory-advanced-copycat.json'),
        ],
    },
}
# (name, scenario) of every attack capture, in order
SCENARIOS = [s for p in PLANTS.values() for s in p['attacks']]
BENIGN = ('factory-benign', PLANTS['factory']['benign'])

# Kinds whose class needs no configuration: dangerous functions, scans,
# floods, spoofing at L2, crafted frames, cloned stacks, a second master.
NOCONFIG_KINDS = {
    'ics_port_scan', 'modbus_unit_id_scan', 'arp_spoof', 's7_plc_stop',
    'dnp3_cold_restart', 'modbus_flood', 'modbus_diagnostics', 'enip_reset',
    'dnp3_address_scan', 'modbus_characterization', 'dnp3_rogue_master',
    'dnp3_injection', 'dnp3_unsolicited_injection', 'dnp3_outstation_masquerade',
    'dnp3_master_hijack', 'modbus_mitm_tamper', 'modbus_replay',
}

# Benign captures for false positives: another seed and another day than
# the scenario's own (what a baseline learns from is never what it judges).
FP_SEED = 90901
FP_DAY = '2024-07-09T14:00:00Z'
FP_DURATION = 900


def generate(name, scenario, labels, seed=None, start=None, duration=None):
    """Generate (once) a capture; returns (pcap, labels or None)."""
    pcap = os.path.join(OUT, name + '.pcap')
    lab = os.path.join(OUT, name + '.labels.json') if labels else None
    if not os.path.exists(pcap) or os.path.getmtime(pcap) < os.path.getmtime(scenario) \
            or os.path.getmtime(pcap) < os.path.getmtime(GEN):
        cmd = [sys.executable, GEN, '--scenario', scenario, '--out', pcap]
        if labels:
            cmd += ['--labels', lab]
        if seed is not None:
            cmd += ['--seed', str(seed)]
        if start is not None:
            cmd += ['--start-time', start]
        if duration is not None:
            cmd += ['--duration', str(duration)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return pcap, lab


def fp_capture(plant):
    """The plant's benign twin on another seed and day."""
    return generate(plant + '-benign-otherday', PLANTS[plant]['benign'], False,
                    seed=FP_SEED, start=FP_DAY, duration=FP_DURATION)[0]


def run_agent(pcap, conf, extra=()):
    cmd = [AGENT, '-c', conf, '-r', pcap, '--alerts-out', '-'] + list(extra)
    res = subprocess.run(cmd, check=True, stdout=subprocess.PIPE)
    return [json.loads(line) for line in res.stdout.decode().splitlines() if line]


def epoch(ts):
    return datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=timezone.utc).timestamp()


def techniques(alert):
    t = [alert.get('technique')] + list(alert.get('techniques') or [])
    return [x for x in t if x]


def in_window(label, alert):
    srcs = {label['src_ip'], label.get('attacker_ip'), label.get('spoofed_ip')}
    if alert['src']['ip'] not in srcs:
        return False
    t = epoch(alert['ts'])
    return label['start_ts'] - 1e-6 <= t <= label['end_ts'] + TOLERANCE


def matches(label, alert):
    return in_window(label, alert) and label['attack_technique'] in techniques(alert)


class Tally:
    """Per attack kind: detected, missed, and with which detector/technique."""

    def __init__(self, mode, required=None):
        self.mode = mode
        self.required = required
        self.kind = defaultdict(lambda: [0, 0])
        self.how = defaultdict(set)
        self.missed = []
        self.fps = []

    def add(self, name, labels, alerts):
        for label in labels:
            hit = [a for a in alerts if matches(label, a)]
            self.kind[label['kind']][0 if hit else 1] += 1
            for a in hit:
                self.how[label['kind']].add('%s/%s' % (a['detector'], a['technique']))
            if not hit:
                near = sorted({'%s/%s' % (a['detector'], a['technique'])
                               for a in alerts if in_window(label, a)})
                self.missed.append((label['kind'], '%s %s %s (%s)%s' % (
                    name, label['id'], label['kind'], label['attack_technique'],
                    ' other alerts: ' + ', '.join(near) if near else '')))

    def add_benign(self, name, alerts):
        self.fps += [(name, a) for a in alerts if SEV.index(a['severity']) >= 1]

    def failures(self):
        return [m for k, m in self.missed
                if self.required is None or k in self.required]

    def report(self):
        print('%-28s %8s %8s  %s' % ('attack kind (' + self.mode + ')', 'detected',
                                    'missed', 'caught by'))
        for kind in sorted(self.kind):
            flag = '' if self.required is None or kind in self.required else ' (needs config)'
            print('%-28s %8d %8d  %s%s' % (kind, self.kind[kind][0], self.kind[kind][1],
                                          ', '.join(sorted(self.how[kind])) or '-', flag))
        print('%-28s %8d' % ('false positives (benign)', len(self.fps)))
        for k, m in self.missed:
            req = self.required is None or k in self.required
            print('  %s: %s' % ('missed' if req else 'missed (not required)', m))
        for name, a in self.fps[:20]:
            print('  false positive (%s): %s %s %s %s -> %s %s' % (
                name, a['ts'], a['severity'], a['detector'], a['src']['ip'],
                a['dst']['ip'], a['title']))
        return len(self.failures()), len(self.fps)


def evaluate(mode, confsel, required=None):
    t = Tally(mode, required)
    for plant, p in PLANTS.items():
        conf = confsel(p)
        for name, scenario in p['attacks']:
            pcap, lab = generate(name, scenario, True)
            t.add(name, json.load(open(lab)), run_agent(pcap, conf))
        t.add_benign(plant, run_agent(fp_capture(plant), conf))
    return t.report()


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(NOCONF, 'w') as f:
        f.write('# make eval (no config): no [policy], no baseline\n'
                '[agent]\nname = eval\nsite = factory\n')
    m1, f1 = evaluate('policy', lambda p: p['conf'])
    print('%d missed, %d false positives (policy)' % (m1, f1))
    print()
    m2, f2 = evaluate('no config', lambda p: NOCONF, NOCONFIG_KINDS)
    print('%d missed, %d false positives (no config)' % (m2, f2))
    return 1 if m1 or f1 or m2 or f2 else 0


if __name__ == '__main__':
    sys.exit(main())
