#!/usr/bin/env python3
"""Learn-then-detect evaluation of icsentry-agent (baseline mode).

No [policy] at all: the agent first learns a baseline from the benign
factory scenario (--learn), then replays every attack scenario of
tests/eval.py against that baseline (--baseline).  An attack counts as
detected when an alert names the attacker with the labeled ATT&CK technique
inside the attack's time window (the matching rule of tests/eval.py).  The
false positives are the alerts of severity low or above when the benign
scenario is replayed against its own baseline.

Also checks that learning is stable: learning the benign scenario again
into the baseline just written must leave the file byte for byte the same.

Exit status 1 if an attack is missed, a false positive appears or the
re-learned baseline differs.
"""
import filecmp
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval as ev  # noqa: E402  (tests/eval.py: scenarios, generator, matching)

CONF = os.path.join(ev.OUT, 'learn-nopolicy.conf')
BASELINE = os.path.join(ev.OUT, 'factory-benign.baseline.json')


def agent(args):
    cmd = [ev.AGENT, '-c', CONF] + args
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0:
        sys.stderr.write(res.stderr.decode())
        raise SystemExit('%s failed with exit %d' % (' '.join(cmd), res.returncode))
    return res.stdout.decode()


def alerts(pcap):
    out = agent(['-r', pcap, '--baseline', BASELINE, '--alerts-out', '-'])
    return [json.loads(line) for line in out.splitlines() if line]


def learn(pcap):
    agent(['-r', pcap, '--learn', BASELINE])


def main():
    os.makedirs(ev.OUT, exist_ok=True)
    with open(CONF, 'w') as f:
        f.write('# make eval (learn mode): no [policy], only what was learned\n'
                '[agent]\nname = eval\nsite = factory\n')
    benign, _ = ev.generate(ev.BENIGN[0], ev.BENIGN[1], False)
    if os.path.exists(BASELINE):
        os.unlink(BASELINE)
    learn(benign)
    first = BASELINE + '.first'
    shutil.copyfile(BASELINE, first)
    learn(benign)           # extending with the same traffic changes nothing
    stable = filecmp.cmp(first, BASELINE, shallow=False)
    os.unlink(first)

    per_kind = defaultdict(lambda: [0, 0])
    missed = []
    for name, scenario in ev.SCENARIOS:
        pcap, lab = ev.generate(name, scenario, True)
        got = alerts(pcap)
        for label in json.load(open(lab)):
            hit = any(ev.matches(label, a) for a in got)
            per_kind[label['kind']][0 if hit else 1] += 1
            if not hit:
                missed.append('%s %s %s (%s)' % (name, label['id'], label['kind'],
                                                  label['attack_technique']))
    got = alerts(benign)
    fps = [a for a in got if ev.SEV.index(a['severity']) >= 1]

    print('%-28s %8s %8s' % ('attack kind (learned)', 'detected', 'missed'))
    for kind in sorted(per_kind):
        print('%-28s %8d %8d' % (kind, per_kind[kind][0], per_kind[kind][1]))
    print('%-28s %8d' % ('false positives (benign)', len(fps)))
    print('%-28s %8s' % ('re-learning is stable', 'yes' if stable else 'NO'))
    for m in missed:
        print('  missed: ' + m)
    for a in fps[:20]:
        print('  false positive: %s %s %s -> %s %s' % (a['ts'], a['detector'], a['src']['ip'],
                                                      a['dst']['ip'], a['title']))
    print('%d missed, %d false positives (learned baseline)' % (len(missed), len(fps)))
    return 1 if missed or fps or not stable else 0


if __name__ == '__main__':
    sys.exit(main())
