#!/usr/bin/env python3
"""make eval-catalogue: single-technique scenarios per protocol.

Generates the captures of tests/gen_catalogue.py (once per change of the
generator), replays each through build/icsentry-agent with a policy that
names the legitimate master (10.10.1.20) as the only writer, master and
discovery host of every protocol, and prints per protocol:

  scenarios   captures of that protocol
  detected    an alert of severity low or above inside the attack interval
              [first attack frame, last attack frame + 1 s]
  technique   one of those alerts carries the scenario's ATT&CK technique
              (primary or secondary)

then every miss (no alert, or not the technique) with what was raised, and
the alerts of severity low or above outside the attack interval (the
benign background: they should be none).  Not a gate: exit status 0 unless
the agent fails.  Targets (issue 12): detected >= 95 %, technique >= 60 %.
"""
import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone

BUILD = os.environ.get('BUILD', 'build')
AGENT = os.path.join(BUILD, 'icsentry-agent')
OUT = os.path.join(BUILD, 'catalogue')
HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, 'gen_catalogue.py')
GEN_FILES = [GEN, os.path.join(HERE, 'gen_catalogue_depth.py')]
SEV = ['info', 'low', 'medium', 'high', 'critical']
TOLERANCE = 1.0
LEGIT = '10.10.1.20'
POLICY_KEYS = ['modbus_writers', 'dnp3_masters', 'iec104_masters', 's7_writers',
               'enip_writers', 'bacnet_writers', 'opcua_writers', 'fins_writers',
               'mms_writers', 'discovery_allowed']


def epoch(ts):
    return datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=timezone.utc).timestamp()


def techniques(alert):
    t = [alert.get('technique')] + list(alert.get('techniques') or [])
    return [x for x in t if x]


def generate():
    index = os.path.join(OUT, 'catalogue.json')
    if not os.path.exists(index) or \
            os.path.getmtime(index) < max(os.path.getmtime(f) for f in GEN_FILES):
        subprocess.run([sys.executable, GEN, OUT], check=True, stdout=subprocess.DEVNULL)
    return json.load(open(index))


def write_conf():
    conf = os.path.join(OUT, 'catalogue.conf')
    with open(conf, 'w') as f:
        f.write('# make eval-catalogue: the legitimate master is the only writer\n'
                '[agent]\nname = catalogue\nsite = catalogue\n\n[policy]\n')
        for k in POLICY_KEYS:
            f.write('%s = %s\n' % (k, LEGIT))
        f.write('ot_networks = 10.10.1.0/24\n')
    return conf


def run_agent(pcap, conf):
    cmd = [AGENT, '-c', conf, '-r', pcap, '--alerts-out', '-']
    res = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return [json.loads(line) for line in res.stdout.decode().splitlines() if line]


def main():
    os.makedirs(OUT, exist_ok=True)
    scenarios = generate()
    conf = write_conf()
    per = defaultdict(lambda: [0, 0, 0])
    misses, background = [], []
    for sc in scenarios:
        alerts = [a for a in run_agent(os.path.join(OUT, sc['pcap']), conf)
                  if SEV.index(a['severity']) >= 1]
        inside = [a for a in alerts
                  if sc['start_ts'] - 1e-3 <= epoch(a['ts']) <= sc['end_ts'] + TOLERANCE]
        background += [(sc['id'], a) for a in alerts if a not in inside]
        hit = any(sc['technique'] in techniques(a) for a in inside)
        p = per[sc['protocol']]
        p[0] += 1
        p[1] += 1 if inside else 0
        p[2] += 1 if hit else 0
        if not hit:
            raised = sorted({'%s/%s' % (a['detector'], '+'.join(techniques(a)) or '-')
                             for a in inside})
            misses.append((sc, raised))
    print('%-10s %9s %9s %6s %9s %6s' % ('protocol', 'scenarios', 'detected', '%',
                                         'technique', '%'))
    tot = [0, 0, 0]
    for proto in sorted(per):
        n, d, t = per[proto]
        tot = [tot[0] + n, tot[1] + d, tot[2] + t]
        print('%-10s %9d %9d %5.0f%% %9d %5.0f%%' % (proto, n, d, 100.0 * d / n, t,
                                                      100.0 * t / n))
    n, d, t = tot
    print('%-10s %9d %9d %5.0f%% %9d %5.0f%%' % ('all', n, d, 100.0 * d / n, t, 100.0 * t / n))
    print()
    for sc, raised in misses:
        print('  %s %s (%s): %s -> %s' % ('missed  ' if not raised else 'wrong id',
                                          sc['id'], sc['technique'], sc['description'],
                                          ', '.join(raised) or 'nothing'))
    print('alerts outside the attack interval (background): %d' % len(background))
    for sid, a in background[:20]:
        print('  %s: %s %s %s %s -> %s %s' % (sid, a['ts'], a['severity'], a['detector'],
                                             a['src']['ip'], a['dst']['ip'], a['title']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
