#!/usr/bin/env python3
"""Robustness of detection off the generator's numbers (make eval, third
part).  tests/gen_variant.py rewrites the advanced plant (other
addresses, MACs, poll rates, DNP3 link addresses, Modbus unit, attack
rates and timings) and makes every spoofing attacker copy the victim's
whole stack (TTL, window, SYN options, ports, IP-ID series, MAC).  The
attack capture is judged as tests/eval.py does:

  no config  every kind of NOCONFIG_KINDS must be caught with its labeled
             technique (variant-only misses are listed as such)
  learned    a baseline learned on the variant's benign twin (seed 4242,
             600 s), no policy: every attack caught

and the variant's benign twin on another seed and day (900 s) must raise
nothing of severity low or above in either mode.  Exit status 1 on a miss
or a false positive.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval as ev  # noqa: E402

VARIANT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gen_variant.py')
SCN_ATTACKS = os.path.join(ev.SCN, 'factory-advanced-attacks.json')
SCN_BENIGN = os.path.join(ev.SCN, 'factory-advanced-benign.json')
CONF = os.path.join(ev.OUT, 'variant-nopolicy.conf')


def generate(name, scenario, labels=False, extra=()):
    pcap = os.path.join(ev.OUT, name + '.pcap')
    lab = os.path.join(ev.OUT, name + '.labels.json') if labels else None
    newest = max(os.path.getmtime(p) for p in (scenario, ev.GEN, VARIANT))
    if not os.path.exists(pcap) or os.path.getmtime(pcap) < newest:
        cmd = [sys.executable, VARIANT, scenario, pcap] + list(extra)
        if labels:
            cmd += ['--labels', lab]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, SHARED=ev.SHARED))
    return pcap, lab


def main():
    os.makedirs(ev.OUT, exist_ok=True)
    with open(CONF, 'w') as f:
        f.write('# make eval (variant): no [policy]\n[agent]\nname = eval\nsite = variant\n')
    attacks, lab = generate('variant-attacks', SCN_ATTACKS, labels=True)
    learn, _ = generate('variant-benign', SCN_BENIGN,
                        extra=('--seed', '4242', '--start-time', '2024-06-10T06:00:00Z',
                               '--duration', '600'))
    other, _ = generate('variant-benign-otherday', SCN_BENIGN,
                        extra=('--seed', str(ev.FP_SEED), '--start-time', ev.FP_DAY,
                               '--duration', str(ev.FP_DURATION)))
    labels = json.load(open(lab))
    base = os.path.join(ev.OUT, 'variant-baseline.json')
    if os.path.exists(base):
        os.unlink(base)
    subprocess.run([ev.AGENT, '-c', CONF, '-r', learn, '--learn', base], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bad = 0
    for mode, extra, required in (('variant, no config', (), ev.NOCONFIG_KINDS),
                                  ('variant, learned', ('--baseline', base), None)):
        t = ev.Tally(mode, required)
        t.add('variant-attacks', labels, ev.run_agent(attacks, CONF, extra))
        t.add_benign('variant-benign', ev.run_agent(other, CONF, extra))
        m, f = t.report()
        print('%d missed, %d false positives (%s)' % (m, f, mode))
        print()
        bad += m + f
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
