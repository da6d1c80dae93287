#!/usr/bin/env python3
"""make bench: speed and memory of icsentry-agent against the floor (a bare
libpcap read of the same file) and against nDPI's own ndpiReader.

For each capture, the commands run alternately, REPEAT times each; the
table shows the median wall time, packets per second and peak RSS (from
wait4's rusage), and the ratios agent/floor and agent/ndpiReader.  The
same figures go to build/bench/result.json.  Then, with a real mosquitto
on loopback and the collector running, a labeled attack capture is
replayed with --realtime and the alert latency (collector stored it -
agent processed the packet) is reported as p50/p99.

Threat intel (issue 17): the agent's per-packet work (callgrind, counted
inside agent_process() only, so loading the bundle is apart) with and without
a signed bundle of 100,000 indicators, on 200,000-packet slices of both
captures; more than 10% more instructions per packet fails the bench.
Loading the bundle (verify, tables) is reported on its own.
"""
import json
import os
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

BUILD = os.environ.get('BUILD', 'build')
SHARED = os.environ.get('SHARED', '../shared')
REPEAT = int(os.environ.get('REPEAT', '5'))
GEN = os.path.join(SHARED, 'tools', 'ics_traffic_gen.py')
SCN = os.path.join(SHARED, 'tools', 'scenarios')
OUT = os.path.join(BUILD, 'bench')
AGENT = os.path.join(BUILD, 'icsentry-agent')
FLOOR = os.path.join(OUT, 'pcapcount')

CAPTURES = [
    ('polling-1m', 'factory-benign.json'),
    ('manyflows-1m', 'bench-manyflows.json'),
]


def generate(name, scenario):
    path = os.path.join(OUT, name + '.pcap')
    if not os.path.exists(path):
        subprocess.run([sys.executable, GEN, '--scenario', os.path.join(SCN, scenario),
                        '--packets', '1000000', '--out', path], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def run(cmd):
    """Wall seconds and peak RSS (KiB) of one run, from wait4."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit('bench: %s failed (%d)' % (' '.join(cmd), status))
    return wall, ru.ru_maxrss


def count_packets(path):
    out = subprocess.run([FLOOR, path], check=True, stdout=subprocess.PIPE).stdout.decode()
    return int(out.split()[0])


def bench_capture(name, path):
    tools = [('floor', [FLOOR, path]),
             ('agent', [AGENT, '-r', path, '--no-mqtt', '--alerts-out', '/dev/null'])]
    if shutil.which('ndpiReader'):
        tools.append(('ndpiReader', ['ndpiReader', '-i', path, '-q']))
    times = {t: [] for t, _ in tools}
    rss = {t: [] for t, _ in tools}
    for _ in range(REPEAT):
        for t, cmd in tools:          # alternate, so drift hits all alike
            w, m = run(cmd)
            times[t].append(w)
            rss[t].append(m)
    pkts = count_packets(path)
    res = {'packets': pkts}
    for t, _ in tools:
        med = statistics.median(times[t])
        res[t] = {'median_s': round(med, 4), 'pps': round(pkts / med),
                  'peak_rss_mib': round(max(rss[t]) / 1024, 1),
                  'runs_s': [round(x, 4) for x in times[t]]}
    res['agent_over_floor'] = round(res['agent']['median_s'] / res['floor']['median_s'], 2)
    if 'ndpiReader' in res:
        res['agent_over_ndpireader'] = round(res['agent']['median_s'] /
                                             res['ndpiReader']['median_s'], 3)
    return res


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def latency():
    """p50/p99 of collector-stored minus agent-processed, on loopback."""
    d = os.path.abspath(os.path.join(OUT, 'latency'))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, 'broker'))
    port = free_port()
    conf = open('broker/mosquitto-demo.conf').read()
    conf = conf.replace('@PORT@', str(port)).replace('@DIR@', os.path.join(d, 'broker')) \
        .replace('@USER@', os.environ.get('USER') or 'root')
    open(os.path.join(d, 'broker', 'mosquitto.conf'), 'w').write(conf)
    mosq = shutil.which('mosquitto') or '/usr/sbin/mosquitto'
    broker = subprocess.Popen([mosq, '-c', os.path.join(d, 'broker', 'mosquitto.conf')],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    coll = None
    try:
        for _ in range(50):
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                break
            except OSError:
                time.sleep(0.1)
        db = os.path.join(d, 'central.db')
        coll = subprocess.Popen([os.path.join(BUILD, 'icsentry-collector'), '--mqtt',
                                 'tcp://127.0.0.1:%d' % port, '--db', db,
                                 '--client-id', 'bench-collector'],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        pcap = os.path.join(OUT, 'latency-attacks.pcap')
        if not os.path.exists(pcap):
            # the public attack scenario with its attacks compressed into 30 s
            scn = json.load(open(os.path.join(SCN, 'factory-attacks.json')))
            starts = [2, 5, 8, 11, 15, 20, 23]
            for a, t in zip(scn['attacks'], starts):
                a['start'] = t
                if a['kind'] == 'arp_spoof':
                    a['count'], a['interval'] = 3, 1.0
                if a['kind'] == 's7_plc_stop':
                    a['restart_after'] = 2
                if a['kind'] == 'modbus_flood':
                    a['duration'] = 3
            path = os.path.join(OUT, 'latency-attacks.json')
            json.dump(scn, open(path, 'w'))
            subprocess.run([sys.executable, GEN, '--scenario', path, '--duration', '30',
                            '--out', pcap], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        alerts_path = os.path.join(d, 'alerts.jsonl')
        emitted = {}
        stop = threading.Event()

        def tail():
            # when each alert line appears in the agent's JSON-lines sink,
            # written just before the MQTT sink gets the same bytes
            pos, buf = 0, b''
            while not stop.is_set():
                try:
                    with open(alerts_path, 'rb') as f:
                        f.seek(pos)
                        chunk = f.read()
                except FileNotFoundError:
                    chunk = b''
                if chunk:
                    now = time.time()
                    pos += len(chunk)
                    buf += chunk
                    while b'\n' in buf:
                        line, buf = buf.split(b'\n', 1)
                        emitted[json.loads(line)['seq']] = now
                time.sleep(0.0005)

        th = threading.Thread(target=tail)
        th.start()
        try:
            stats = subprocess.run([AGENT, '-c', 'config/demo.conf', '-r', pcap, '--realtime',
                                    '--mqtt', 'tcp://127.0.0.1:%d' % port, '--stats',
                                    '--alerts-out', alerts_path],
                                   check=True, stderr=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL).stderr.decode().splitlines()
        finally:
            time.sleep(0.2)
            stop.set()
            th.join()
        st = json.loads([l for l in stats if l.startswith('{')][-1])
        anchor = st['replay']
        sent = sum(1 for _ in open(os.path.join(d, 'alerts.jsonl')))
        for _ in range(100):
            con = sqlite3.connect(db)
            rows = con.execute('SELECT raw, received_at FROM alerts').fetchall()
            con.close()
            if len(rows) >= sent:
                break
            time.sleep(0.1)
        lat, transport = [], []
        for raw, received in rows:
            a = json.loads(raw)
            t = a['ts']
            from datetime import datetime, timezone
            ts = datetime.strptime(t, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
                tzinfo=timezone.utc).timestamp()
            if a['details'].get('summary'):
                continue        # summaries go out when their window closes
            processed = anchor['wall_start'] + (ts - anchor['capture_start'])
            got = datetime.strptime(received, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
                tzinfo=timezone.utc).timestamp()
            lat.append(got - processed)
            if a['seq'] in emitted:
                transport.append(got - emitted[a['seq']])
        if not lat:
            return {'alerts': 0}

        def pct(v, q):
            v = sorted(v)
            return round(v[min(len(v) - 1, int(round(q * (len(v) - 1))))] * 1000, 2)
        return {'sent': sent, 'stored': len(rows), 'alerts': len(lat),
                # the agent wrote the alert -> the collector committed it
                'emit_to_stored_p50_ms': pct(transport, 0.5),
                'emit_to_stored_p99_ms': pct(transport, 0.99),
                'emit_to_stored_max_ms': pct(transport, 1.0),
                # the packet's capture time (paced) -> committed; includes
                # detection windows such as the scan detector's 2 s grace
                'packet_to_stored_p50_ms': pct(lat, 0.5),
                'packet_to_stored_p99_ms': pct(lat, 0.99)}
    finally:
        if coll:
            coll.terminate()
            coll.wait()
        broker.terminate()
        broker.wait()


def flat_memory(path):
    """Peak RSS of one pass against three passes in one run."""
    _, one = run([AGENT, '-r', path, '--no-mqtt'])
    _, three = run([AGENT, '-r', path, '-r', path, '-r', path, '--no-mqtt'])
    return {'one_pass_mib': round(one / 1024, 1), 'three_passes_mib': round(three / 1024, 1),
            'growth': round(three / one - 1, 3)}


INTEL = os.path.join(BUILD, 'icsentry-intel')
INTEL_N = 100000
INTEL_LIMIT = 0.10


def intel_bundle(d):
    """A signed fleet bundle of INTEL_N indicators that this traffic never
    touches (the generator's plant is 10.10.0.0/16): what it costs is the
    lookups, not alerts."""
    import random
    rnd = random.Random(17)
    inds = []
    kinds = [('ip', 60000), ('cidr', 20000), ('mac', 10000), ('port', 5000),
             ('domain', 5000)]
    n = 0
    for kind, count in kinds:
        for i in range(count):
            n += 1
            if kind == 'ip':
                v = '172.%d.%d.%d' % (16 + rnd.randrange(16), rnd.randrange(256),
                                      rnd.randrange(256))
            elif kind == 'cidr':
                bits = rnd.randrange(8, 31)
                v = '%d.%d.%d.0/%d' % (rnd.choice([100, 198, 203]), rnd.randrange(256),
                                       rnd.randrange(256), bits)
            elif kind == 'mac':
                v = '02:%02x:%02x:%02x:%02x:%02x' % tuple(rnd.randrange(256)
                                                           for _ in range(5))
            elif kind == 'port':
                v = 'tcp/%d' % (30000 + i)
            else:
                v = 'c2-%d.example' % i
            inds.append({'id': 'b-%d' % n, 'type': kind, 'value': v,
                         'severity': 'high', 'technique': None, 'description': ''})
    bundle = {'format': 'icsentry-intel/1', 'version': 1, 'site': None,
              'expires': None, 'indicators': inds}
    key = os.path.join(d, 'bench.key')
    if not os.path.exists(key):
        subprocess.run([INTEL, 'keygen', '--out', key], check=True,
                       stdout=subprocess.DEVNULL)
    raw = os.path.join(d, 'bundle-100k.json')
    json.dump(bundle, open(raw, 'w'))
    signed = os.path.join(d, 'bundle-100k.signed')
    with open(signed, 'w') as f:
        subprocess.run([INTEL, 'sign', '--key', key, raw], check=True, stdout=f)
    conf = os.path.join(d, 'intel.conf')
    open(conf, 'w').write('[intel]\nkeys = %s.pub\n' % key)
    return conf, signed


def callgrind(cmd, d, tag, toggle):
    out = os.path.join(d, 'callgrind.%s.out' % tag)
    args = ['valgrind', '--tool=callgrind', '--callgrind-out-file=' + out]
    if toggle:
        args.append('--toggle-collect=' + toggle)
    p = subprocess.run(args + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise SystemExit('bench: %s failed under callgrind' % ' '.join(cmd))
    for line in open(out):
        if line.startswith('summary:') or line.startswith('totals:'):
            return int(line.split()[1])
    raise SystemExit('bench: no callgrind total in %s' % out)


def intel_overhead():
    d = os.path.join(OUT, 'intel')
    os.makedirs(d, exist_ok=True)
    conf, signed = intel_bundle(d)
    res = {'indicators': INTEL_N, 'limit': INTEL_LIMIT, 'captures': {}}
    for name, scenario in CAPTURES:
        pcap = os.path.join(d, name + '-200k.pcap')
        if not os.path.exists(pcap):
            subprocess.run([sys.executable, GEN, '--scenario', os.path.join(SCN, scenario),
                            '--packets', '200000', '--out', pcap], check=True,
                           stdout=subprocess.DEVNULL)
        base = [AGENT, '-c', conf, '-r', pcap, '--no-mqtt', '--alerts-out', '/dev/null']
        without = callgrind(base, d, name + '-without', 'agent_process')
        with_ = callgrind(base + ['--intel', signed], d, name + '-with', 'agent_process')
        whole_without = callgrind(base, d, name + '-whole-without', None)
        whole_with = callgrind(base + ['--intel', signed], d, name + '-whole-with', None)
        pkts = count_packets(pcap)
        res['captures'][name] = {
            'packets': pkts,
            'per_packet_without': round(without / pkts, 1),
            'per_packet_with': round(with_ / pkts, 1),
            'slowdown': round(with_ / without - 1, 4),
            'load_bundle_instructions': whole_with - whole_without - (with_ - without)}
    res['ok'] = all(c['slowdown'] <= INTEL_LIMIT for c in res['captures'].values())
    return res


def print_intel(r):
    for name, c in r['captures'].items():
        print('intel %-14s %d indicators: %.0f -> %.0f instructions/packet (%+.2f%%); '
              'loading the bundle %.0f M instructions once' % (
                  name, r['indicators'], c['per_packet_without'], c['per_packet_with'],
                  c['slowdown'] * 100, c['load_bundle_instructions'] / 1e6))
    print('intel: %s (limit +%d%%)' % ('ok' if r['ok'] else 'FAILED', r['limit'] * 100))


def main():
    os.makedirs(OUT, exist_ok=True)
    t0 = time.monotonic()
    result = {'repeat': REPEAT, 'captures': {}}
    if os.environ.get('BENCH_ONLY') == 'latency':
        print(json.dumps(latency()))
        return
    if os.environ.get('BENCH_ONLY') == 'intel':
        r = intel_overhead()
        print_intel(r)
        if not r['ok']:
            raise SystemExit(1)
        return
    for name, scenario in CAPTURES:
        result['captures'][name] = bench_capture(name, generate(name, scenario))
    result['flat_memory_manyflows'] = flat_memory(os.path.join(OUT, 'manyflows-1m.pcap'))
    result['alert_latency'] = latency()
    result['intel_overhead'] = intel_overhead()
    json.dump(result, open(os.path.join(OUT, 'result.json'), 'w'), indent=1)

    print('%-14s %-11s %10s %12s %10s' % ('capture', 'tool', 'median s', 'packets/s', 'peak MiB'))
    for name, r in result['captures'].items():
        for t in ('floor', 'agent', 'ndpiReader'):
            if t in r:
                print('%-14s %-11s %10.3f %12d %10.1f' % (name, t, r[t]['median_s'], r[t]['pps'],
                                                         r[t]['peak_rss_mib']))
        print('%-14s agent/floor %.2f   agent/ndpiReader %s' % (
            name, r['agent_over_floor'], r.get('agent_over_ndpireader', 'n/a')))
    fm = result['flat_memory_manyflows']
    print('memory, manyflows-1m: one pass %.1f MiB, three passes %.1f MiB (%+.1f%%)' % (
        fm['one_pass_mib'], fm['three_passes_mib'], fm['growth'] * 100))
    al = result['alert_latency']
    print('alert latency (agent -> MQTT -> collector -> SQLite): %s' % json.dumps(al))
    print_intel(result['intel_overhead'])
    print('JSON: %s (bench took %.0f s)' % (os.path.join(OUT, 'result.json'),
                                           time.monotonic() - t0))
    if not result['intel_overhead']['ok']:
        raise SystemExit(1)


if __name__ == '__main__':
    main()
