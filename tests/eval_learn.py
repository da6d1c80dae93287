#!/usr/bin/env python3
"""Learn-then-detect evaluation of icsentry-agent (baseline mode).

No [policy] at all: for each plant the agent first learns a baseline from
the plant's benign twin (--learn), then replays every attack capture of
that plant (tests/eval.py) against it (--baseline).  Learning is repeated
on several versions of the benign twin (LEARN: the scenario's own seed and
length, a short one, a long one on another day), because a baseline that
only works on the exact capture it was learned from is worth nothing.  An
attack counts as detected when an alert names the attacker with the
labeled ATT&CK technique inside the attack's time window (the matching
rule of tests/eval.py).  The false positives are the alerts of severity
low or above on the benign twin generated with yet another seed and day
(tests/eval.py fp_capture), judged against each baseline.

Also checks that learning is stable: learning the same benign capture
again into the baseline just written must leave the file byte for byte the
same.

The channel-model cell: attacks inside live sessions by an intruder whose
stack copies the victims' (tests/eval/factory-advanced-session.json) must
each be caught by the learned channel models alone (MODEL_DETECTORS: the
polling cycle, the value envelopes), whatever the identity detectors say.

Exit status 1 if an attack is missed, a false positive appears or the
re-learned baseline differs.
"""
import filecmp
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval as ev  # noqa: E402  (tests/eval.py: scenarios, generator, matching)

CONF = os.path.join(ev.OUT, 'learn-nopolicy.conf')

# (tag, seed, start time, duration s): None keeps the scenario's own
LEARN = [
    ('own', None, None, None),
    ('short', 4242, '2024-06-10T06:00:00Z', 600),
    ('long', 5151, '2024-06-11T22:00:00Z', 1800),
]


# (plant, capture name, scenario) judged by the channel models alone
MODEL_CELL = ('factory-advanced', 'factory-advanced-session',
              'tests/eval/factory-advanced-session.json')
MODEL_DETECTORS = ('cycle.', 'envelope.')


def model_findings(alerts):
    """The channel models' findings: alerts they lead, and their findings
    folded into another alert of the same packet (`correlated`), with that
    alert's hosts and time."""
    out = []
    for a in alerts:
        if a['detector'].startswith(MODEL_DETECTORS):
            out.append(a)
        for c in a.get('correlated') or []:
            if c['rule'].startswith(MODEL_DETECTORS):
                f = dict(a)
                f.update(detector=c['rule'], technique=c.get('technique'),
                         techniques=[])
                out.append(f)
    return out


def agent(args):
    cmd = [ev.AGENT, '-c', CONF] + args
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if res.returncode != 0:
        sys.stderr.write(res.stderr.decode())
        raise SystemExit('%s failed with exit %d' % (' '.join(cmd), res.returncode))
    return res.stdout.decode()


def alerts(pcap, baseline):
    out = agent(['-r', pcap, '--baseline', baseline, '--alerts-out', '-'])
    return [json.loads(line) for line in out.splitlines() if line]


def learn(pcap, baseline):
    agent(['-r', pcap, '--learn', baseline])


def main():
    os.makedirs(ev.OUT, exist_ok=True)
    with open(CONF, 'w') as f:
        f.write('# make eval (learn mode): no [policy], only what was learned\n'
                '[agent]\nname = eval\nsite = factory\n')
    fail = 0
    for tag, seed, start, duration in LEARN:
        t = ev.Tally('learned: ' + tag)
        unstable = []
        for plant, p in ev.PLANTS.items():
            name = plant + '-benign' + ('' if seed is None else '-' + tag)
            benign, _ = ev.generate(name, p['benign'], False, seed, start, duration)
            baseline = os.path.join(ev.OUT, name + '.baseline.json')
            if os.path.exists(baseline):
                os.unlink(baseline)
            learn(benign, baseline)
            first = baseline + '.first'
            shutil.copyfile(baseline, first)
            learn(benign, baseline)     # extending with the same traffic changes nothing
            if not filecmp.cmp(first, baseline, shallow=False):
                unstable.append(plant)
            os.unlink(first)
            for aname, scenario in p['attacks']:
                pcap, lab = ev.generate(aname, scenario, True)
                t.add(aname, json.load(open(lab)), alerts(pcap, baseline))
            t.add_benign(plant, alerts(ev.fp_capture(plant), baseline))
            if plant == MODEL_CELL[0]:
                pcap, lab = ev.generate(MODEL_CELL[1], MODEL_CELL[2], True)
                m = ev.Tally('channel models, learned: ' + tag)
                m.add(MODEL_CELL[1], json.load(open(lab)),
                      model_findings(alerts(pcap, baseline)))
        missed, fps = t.report()
        m_missed, _ = m.report()
        missed += m_missed
        print('%-28s %8s' % ('re-learning is stable', 'NO: ' + ', '.join(unstable)
                             if unstable else 'yes'))
        print('%d missed, %d false positives (learned: %s)' % (missed, fps, tag))
        print()
        if missed or fps or unstable:
            fail = 1
    return fail


if __name__ == '__main__':
    sys.exit(main())
