#!/usr/bin/env python3
"""make eval: detection quality of icsentry-agent on labeled scenarios.

For each attack scenario: generate the capture and its labels with
../shared/tools/ics_traffic_gen.py, replay it through build/icsentry-agent
with the scenario's policy (tests/eval/factory.conf), and count an attack
as detected when an alert names the attacker (src ip) with the labeled
ATT&CK technique inside the attack's time window [start_ts, end_ts + 1 s].
The benign scenario gives the false positives: alerts of severity low or
above.  Exit status 1 if any attack is missed or any false positive
appears, so the target can gate a change.
"""
import json
import os
import subprocess
import sys
from collections import defaultdict

BUILD = os.environ.get('BUILD', 'build')
SHARED = os.environ.get('SHARED', '../shared')
GEN = os.path.join(SHARED, 'tools', 'ics_traffic_gen.py')
AGENT = os.path.join(BUILD, 'icsentry-agent')
OUT = os.path.join(BUILD, 'eval')
CONF = 'tests/eval/factory.conf'
SEV = ['info', 'low', 'medium', 'high', 'critical']
TOLERANCE = 1.0

SCENARIOS = [
    ('factory-attacks', os.path.join(SHARED, 'tools', 'scenarios', 'factory-attacks.json')),
    ('factory-more-attacks', 'tests/eval/factory-more-attacks.json'),
]
BENIGN = ('factory-benign', os.path.join(SHARED, 'tools', 'scenarios', 'factory-benign.json'))


def generate(name, scenario, labels):
    pcap = os.path.join(OUT, name + '.pcap')
    lab = os.path.join(OUT, name + '.labels.json') if labels else None
    if not os.path.exists(pcap) or os.path.getmtime(pcap) < os.path.getmtime(scenario):
        cmd = [sys.executable, GEN, '--scenario', scenario, '--out', pcap]
        if labels:
            cmd += ['--labels', lab]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return pcap, lab


def run_agent(pcap, extra=()):
    cmd = [AGENT, '-c', CONF, '-r', pcap, '--alerts-out', '-'] + list(extra)
    res = subprocess.run(cmd, check=True, stdout=subprocess.PIPE)
    return [json.loads(line) for line in res.stdout.decode().splitlines() if line]


def epoch(ts):
    from datetime import datetime
    return datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=__import__('datetime').timezone.utc).timestamp()


def matches(label, alert):
    srcs = {label['src_ip'], label.get('attacker_ip')}
    if alert['src']['ip'] not in srcs:
        return False
    if alert.get('technique') != label['attack_technique']:
        return False
    t = epoch(alert['ts'])
    return label['start_ts'] - 1e-6 <= t <= label['end_ts'] + TOLERANCE


def evaluate(mode, extra=()):
    per_kind = defaultdict(lambda: [0, 0])
    missed = []
    for name, scenario in SCENARIOS:
        pcap, lab = generate(name, scenario, True)
        alerts = run_agent(pcap, extra)
        for label in json.load(open(lab)):
            hit = any(matches(label, a) for a in alerts)
            per_kind[label['kind']][0 if hit else 1] += 1
            if not hit:
                missed.append('%s %s %s (%s)' % (name, label['id'], label['kind'],
                                                  label['attack_technique']))
    pcap, _ = generate(BENIGN[0], BENIGN[1], False)
    benign = run_agent(pcap, extra)
    fps = [a for a in benign if SEV.index(a['severity']) >= 1]
    print('%-28s %8s %8s' % ('attack kind (' + mode + ')', 'detected', 'missed'))
    for kind in sorted(per_kind):
        print('%-28s %8d %8d' % (kind, per_kind[kind][0], per_kind[kind][1]))
    print('%-28s %8d' % ('false positives (benign)', len(fps)))
    for m in missed:
        print('  missed: ' + m)
    for a in fps[:20]:
        print('  false positive: %s %s %s -> %s %s' % (a['ts'], a['detector'], a['src']['ip'],
                                                      a['dst']['ip'], a['title']))
    return len(missed), len(fps)


def main():
    os.makedirs(OUT, exist_ok=True)
    missed, fps = evaluate('policy')
    print('%d missed, %d false positives' % (missed, fps))
    return 1 if missed or fps else 0


if __name__ == '__main__':
    sys.exit(main())
