#!/usr/bin/env python3
"""make bench-central: how fast the central log stores and answers.

1. Write rate, sustained: a real mosquitto on loopback, 8 agents' chained
   alerts (~740 bytes, build/bench/clog_fill gen) published at QoS 1 by 8
   mosquitto_pub processes at once, stored by real icsentry-collector
   processes (fsync on: SQLite synchronous=FULL, PostgreSQL
   synchronous_commit=on; group commit as configured by default).  One
   collector on SQLite; 1, 2 and 4 collectors (shared subscription) on one
   PostgreSQL database.  Rate = alerts / time from the first to the last
   stored, measured from the log itself; the middle 80% is reported too
   (the sustained rate, without start-up and tail).
2. icsentry-log latency on logs of BENCH_SIZES alerts each (default 1 M and
   10 M), filled through the real insert path (central_log_insert, 1000 per
   transaction, build/bench/clog_fill fill): filtered queries that return
   few rows, stats, a full verify and an incremental one.  Median of 3 runs
   (warm cache).

PostgreSQL is a throwaway cluster under build/bench-central, started as
"nobody" when run as root.  Results: stdout and build/bench-central/
result.md.  Environment: BENCH_SIZES, BENCH_WRITE (alerts per write run,
default 50000), BENCH_KEEP=1 keeps filled logs for the next run,
BENCH_RUNS (default "sqlite:1 postgresql:1 postgresql:2 postgresql:4")
which write runs to make, BENCH_COLLECTOR_CONF lines added to each
collector's [collector] section (e.g. "batch_ms = 250").

CPU per alert: the collectors' user+sys time (/proc/PID/stat, all threads)
and the broker's, over the run, divided by the alerts stored.  On a shared
machine this is the steadier figure: alerts/s moves with the load.
"""
import calendar
import glob
import os
import pwd
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time

BUILD = os.environ.get('BUILD', 'build')
SIZES = [int(x) for x in os.environ.get('BENCH_SIZES', '1000000').split()]
WRITE_N = int(os.environ.get('BENCH_WRITE', '50000'))
RUNS = [(r.split(':')[0], int(r.split(':')[1])) for r in os.environ.get(
    'BENCH_RUNS', 'sqlite:1 postgresql:1 postgresql:2 postgresql:4').split()]
EXTRA_CONF = os.environ.get('BENCH_COLLECTOR_CONF', '').replace('\\n', '\n')
PG_STATS = os.environ.get('BENCH_PG_STATS') == '1'
TICK = os.sysconf('SC_CLK_TCK')


def cpu_s(pid):
    """user+sys seconds of a process (all its threads) so far."""
    try:
        f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
        return (int(f[11]) + int(f[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0
OUT = os.path.abspath(os.path.join(BUILD, 'bench-central'))
FILL = os.path.join(BUILD, 'bench', 'clog_fill')
LOG = os.path.join(BUILD, 'icsentry-log')
COLL = os.path.join(BUILD, 'icsentry-collector')
MOSQ = shutil.which('mosquitto') or '/usr/sbin/mosquitto'
ROOT = os.geteuid() == 0


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(('127.0.0.1', port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


class Postgres:
    def __init__(self, where, keep=False):
        bins = sorted(glob.glob('/usr/lib/postgresql/*/bin/pg_ctl'))
        if not bins:
            sys.exit('bench-central: no PostgreSQL (apt-get install postgresql)')
        self.bin = os.path.dirname(bins[-1])
        self.dir = where
        self.data = os.path.join(where, 'data')
        self.port = free_port()
        # BENCH_KEEP=1: the cluster of the last run, with its filled logs
        if not (keep and os.path.isdir(self.data)):
            shutil.rmtree(where, ignore_errors=True)
            os.makedirs(where)
            if ROOT:
                pw = pwd.getpwnam('nobody')
                os.chown(where, pw.pw_uid, pw.pw_gid)
            self.run('initdb', '-D', self.data, '-U', 'postgres',
                     '--auth=trust', '-E', 'UTF8', '--locale=C')
        self.run('pg_ctl', '-D', self.data, '-l',
                 os.path.join(where, 'server.log'), '-w', '-t', '120', '-o',
                 '-p %d -k %s -c listen_addresses=127.0.0.1 '
                 '-c shared_buffers=256MB -c max_wal_size=4GB '
                 '-c max_connections=40%s' % (
                     self.port, where,
                     ' -c shared_preload_libraries=pg_stat_statements '
                     '-c pg_stat_statements.track=all' if PG_STATS else ''),
                 'start')

    def run(self, prog, *args):
        cmd = [os.path.join(self.bin, prog)] + list(args)
        if ROOT:
            cmd = ['runuser', '-u', 'nobody', '--'] + cmd
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd='/')

    def uri(self, db):
        return 'postgresql://postgres@127.0.0.1:%d/%s' % (self.port, db)

    def sql(self, db, text):
        r = subprocess.run([os.path.join(self.bin, 'psql'), '-At', '-h',
                            '127.0.0.1', '-p', str(self.port), '-U',
                            'postgres', '-d', db, '-c', text],
                           capture_output=True, text=True)
        return r.stdout.strip()

    def fresh(self, db):
        self.sql('postgres', 'DROP DATABASE IF EXISTS %s' % db)
        self.sql('postgres', 'CREATE DATABASE %s' % db)
        if PG_STATS:
            self.sql(db, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
            self.sql(db, 'SELECT pg_stat_statements_reset()')
        return self.uri(db)

    def top_statements(self, db, n=15):
        """BENCH_PG_STATS=1: the statements that took the server's time."""
        return self.sql(db, "SELECT round(total_exec_time)::bigint || ' ms | ' "
                        "|| calls || ' calls | ' || rows || ' rows | ' || "
                        "left(regexp_replace(query, '\\s+', ' ', 'g'), 110) "
                        "FROM pg_stat_statements s JOIN pg_database d "
                        "ON d.oid = s.dbid WHERE d.datname = '%s' "
                        "ORDER BY total_exec_time DESC LIMIT %d" % (db, n))

    def cpu(self):
        """user+sys seconds of the server's processes (all backends)."""
        try:
            pm = int(open(os.path.join(self.data, 'postmaster.pid')).readline())
        except (OSError, ValueError):
            return 0.0
        total = 0.0
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            try:
                st = open('/proc/%s/stat' % d).read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(d) == pm or int(st[1]) == pm:
                total += (int(st[11]) + int(st[12])) / TICK
        return total

    def stop(self):
        self.run('pg_ctl', '-D', self.data, '-m', 'fast', '-w', 'stop')


def count(db, pg):
    try:
        if db.startswith('postgresql://'):
            v = pg.sql(db.rsplit('/', 1)[1], 'SELECT count(*) FROM alert_keys')
            return int(v) if v.isdigit() else 0
        h = sqlite3.connect('file:%s?mode=ro' % db, uri=True, timeout=10)
        n = h.execute('SELECT count(*) FROM alerts').fetchone()[0]
        h.close()
        return n
    except Exception:
        return 0


def write_rate(label, db, ncoll, pg, alerts_dir):
    work = os.path.join(OUT, 'write-%s-%d' % (label, ncoll))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    port = free_port()
    conf = open('broker/mosquitto-demo.conf').read()
    conf = conf.replace('@PORT@', str(port)).replace('@DIR@', work)
    conf = conf.replace('@USER@', pwd.getpwuid(os.geteuid()).pw_name)
    # a long run must not lose the collectors' queue
    conf = conf.replace('max_queued_messages 100000',
                        'max_queued_messages 0')
    with open(os.path.join(work, 'mosquitto.conf'), 'w') as f:
        f.write(conf)
    procs = []
    pg0 = pg.cpu() if db.startswith('postgresql://') else 0.0
    broker = subprocess.Popen([MOSQ, '-c', os.path.join(work, 'mosquitto.conf')],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        if not wait_port(port):
            raise RuntimeError('mosquitto did not start')
        for i in range(ncoll):
            c = os.path.join(work, 'c%d.conf' % i)
            with open(c, 'w') as f:
                f.write('[collector]\ndb = %s\nfsync = true\n'
                        'persist_dir = %s/c%d.mqtt\n'
                        '[mqtt]\nuri = tcp://127.0.0.1:%d\nclient_id = bench-c%d\n'
                        'shared_subscription = true\n'
                        % (db, work, i, port, i))
                if EXTRA_CONF:
                    f.write('[collector]\n%s\n' % EXTRA_CONF)
            out = open(os.path.join(work, 'c%d.out' % i), 'w')
            procs.append(subprocess.Popen([COLL, '-c', c], stdout=out,
                                          stderr=subprocess.STDOUT))
        end = time.time() + 30
        while time.time() < end:
            if all('subscribed' in open(os.path.join(work, 'c%d.out' % i)).read()
                   for i in range(ncoll)):
                break
            time.sleep(0.2)
        pubs = []
        for path in sorted(glob.glob(os.path.join(alerts_dir, '*.jsonl'))):
            agent = os.path.basename(path)[:-6]
            site = 'plant-b' if int(agent[3:]) % 2 else 'plant-a'
            pubs.append(subprocess.Popen(
                ['mosquitto_pub', '-p', str(port), '-q', '1', '-l',
                 '-i', 'bench-%s' % agent,
                 '-t', 'icsentry/%s/%s/alert/medium' % (site, agent)],
                stdin=open(path), stdout=subprocess.DEVNULL))
        marks = []
        t0 = time.time()
        last = 0
        while time.time() - t0 < 1800:
            n = count(db, pg)
            marks.append((time.time(), n))
            if n >= WRITE_N:
                break
            if n == last and len(marks) > 120 and \
                    marks[-120][1] == n:
                break		# no progress for a minute
            last = n
            time.sleep(0.5)
        ccpu = sum(cpu_s(p.pid) for p in procs)
        bcpu = cpu_s(broker.pid)
        dcpu = pg.cpu() - pg0 if db.startswith('postgresql://') else 0.0
        for p in pubs:
            p.wait(timeout=60)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        broker.terminate()
        broker.wait()
    first = next((t for t, n in marks if n > 0), marks[-1][0])
    lastt, total = marks[-1]
    lo = next(((t, n) for t, n in marks if n >= total * 0.1), marks[0])
    hi = next(((t, n) for t, n in marks if n >= total * 0.9), marks[-1])
    rate = total / max(lastt - first, 0.001)
    mid = (hi[1] - lo[1]) / max(hi[0] - lo[0], 0.001)
    return (total, rate, mid, ccpu * 1e6 / max(total, 1),
            bcpu * 1e6 / max(total, 1), dcpu * 1e6 / max(total, 1))


def timed(args):
    times = []
    out = b''
    for _ in range(3):
        t = time.time()
        r = subprocess.run(args, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        times.append(time.time() - t)
        out = r.stdout
    return statistics.median(times), out


def rfc3339_s(text):
    """'2026-12-06T23:05:08.795310Z' -> seconds since the epoch."""
    return calendar.timegm(time.strptime(text[:19], '%Y-%m-%dT%H:%M:%S'))


def latency(label, db, size, now):
    """now: the newest alert's received time (a fill's 60 days of alerts
    end where it started, and a fill takes up to an hour at 10 M: "the
    last hour" is measured from the newest alert, not from the clock)."""

    def ago(s):
        return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now - s))
    q = [
        ('query --agent gw-03 --since 1h', ['--agent', 'gw-03', '--since', ago(3600)]),
        ('query --ip 10.66.6.6', ['--ip', '10.66.6.6']),
        ('query --technique T0809', ['--technique', 'T0809']),
        ('query --detector s7.plc_stop', ['--detector', 's7.plc_stop']),
        ('query --detector "s7.*" --agent "gw-0*"',
         ['--detector', 's7.*', '--agent', 'gw-0*']),
        ('query --min-severity critical --since 1d',
         ['--min-severity', 'critical', '--since', ago(86400)]),
        ('query --since 10m --until 5m', ['--since', ago(600), '--until', ago(300)]),
        ('query --time capture --since 10m --until 5m',
         ['--time', 'capture', '--since', ago(600), '--until', ago(300)]),
        ('query --since 1d --limit 100', ['--since', ago(86400), '--limit', '100']),
        ('query --agent gw-03 --since 1d --limit 100',
         ['--agent', 'gw-03', '--since', ago(86400), '--limit', '100']),
        ('query --limit 100', ['--limit', '100']),
    ]
    rows = []
    for name, args in q:
        t, out = timed([LOG, 'query', '--db', db, '--json'] + args)
        rows.append((name, t, out.count(b'\n')))
    t, _ = timed([LOG, 'stats', '--db', db])
    rows.append(('stats', t, None))
    t0 = time.time()
    subprocess.run([LOG, 'verify', '--db', db, '--quiet'],
                   stdout=subprocess.DEVNULL)
    rows.append(('verify (full)', time.time() - t0, None))
    subprocess.run([LOG, 'verify', '--db', db, '--incremental', '--quiet'],
                   stdout=subprocess.DEVNULL)
    t, _ = timed([LOG, 'verify', '--db', db, '--incremental', '--quiet'])
    rows.append(('verify --incremental (nothing new)', t, None))
    return rows


def main():
    os.makedirs(OUT, exist_ok=True)
    for b in (FILL, LOG, COLL):
        if not os.access(b, os.X_OK):
            sys.exit('bench-central: %s missing (make all %s)' % (b, FILL))
    keep = os.environ.get('BENCH_KEEP') == '1'
    need_pg = SIZES or any(label == 'postgresql' for label, _ in RUNS)
    pg = Postgres(os.path.join(OUT, 'pg'), keep) if need_pg else None
    lines = []

    def say(s=''):
        print(s, flush=True)
        lines.append(s)
    try:
        say('# make bench-central on %s (%d cores), %s' % (
            socket.gethostname(), os.cpu_count(),
            time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())))
        say('')
        say('Load at start: %s' % open('/proc/loadavg').read().strip())
        say('')
        alerts = os.path.join(OUT, 'alerts')
        shutil.rmtree(alerts, ignore_errors=True)
        os.makedirs(alerts)
        subprocess.run([FILL, 'gen', alerts, str(WRITE_N), '8'], check=True)
        say('## Write rate: %d alerts from 8 agents, QoS 1 through mosquitto, '
            'fsync on' % WRITE_N)
        say('')
        if EXTRA_CONF:
            say('collector config added: %s' % EXTRA_CONF.replace('\n', '; '))
            say('')
        say('| log | collectors | stored | alerts/s (first to last) | '
            'alerts/s (middle 80%) | collector CPU us/alert | '
            'broker CPU us/alert | PostgreSQL CPU us/alert | load |')
        say('|---|---|---|---|---|---|---|---|---|')
        for label, n in RUNS:
            if label == 'sqlite':
                db = os.path.join(OUT, 'write.db')
                for f in glob.glob(db + '*'):
                    os.unlink(f)
            else:
                db = pg.fresh('write%d' % n)
            total, rate, mid, ccpu, bcpu, dcpu = write_rate(label, db, n, pg,
                                                            alerts)
            say('| %s | %d | %d | %.0f | %.0f | %.0f | %.0f | %s | %s |' % (
                label, n, total, rate, mid, ccpu, bcpu,
                '%.0f' % dcpu if label == 'postgresql' else '-',
                open('/proc/loadavg').read().split()[0]))
            if PG_STATS and label == 'postgresql':
                top = pg.top_statements('write%d' % n)
                with open(os.path.join(OUT, 'pg-stats-%d.txt' % n), 'w') as f:
                    f.write(top + '\n')
                print(top, flush=True)
        for size in SIZES:
            say('')
            say('## icsentry-log on %d alerts (median of 3, warm)' % size)
            say('')
            res = {}
            for label in ('sqlite', 'postgresql'):
                if label == 'sqlite':
                    db = os.path.join(OUT, 'log-%d.db' % size)
                    fresh = not (keep and os.path.exists(db))
                    if fresh:
                        for f in glob.glob(db + '*'):
                            os.unlink(f)
                else:
                    name = 'log%d' % size
                    have = pg.sql('postgres', "SELECT 1 FROM pg_database "
                                  "WHERE datname = '%s'" % name) == '1'
                    fresh = not (keep and have)
                    db = pg.fresh(name) if fresh else pg.uri(name)
                if fresh:
                    t = time.time()
                    subprocess.run([FILL, 'fill', db, str(size), '8'],
                                   check=True, stdout=subprocess.DEVNULL)
                    fill_s = time.time() - t
                else:
                    fill_s = None
                newest = (pg.sql(name, 'SELECT max(received_at) FROM alerts')
                          if label == 'postgresql' else
                          sqlite3.connect(db).execute(
                              'SELECT max(received_at) FROM alerts')
                          .fetchone()[0])
                res[label] = (latency(label, db, size, rfc3339_s(newest)),
                              fill_s)
            say('| command | SQLite s (rows) | PostgreSQL s (rows) |')
            say('|---|---|---|')
            for i, (name, _, _) in enumerate(res['sqlite'][0]):
                cells = []
                for label in ('sqlite', 'postgresql'):
                    _, t, n = res[label][0][i]
                    cells.append('%.3f%s' % (t, '' if n is None else ' (%d)' % n))
                say('| %s | %s | %s |' % (name, cells[0], cells[1]))
            for label in ('sqlite', 'postgresql'):
                if res[label][1] is not None:
                    say('')
                    say('filling %s through central_log_insert: %.0f s '
                        '(%.0f alerts/s, 1000 per transaction)' % (
                            label, res[label][1], size / res[label][1]))
        say('')
        say('Load at end: %s' % open('/proc/loadavg').read().strip())
    finally:
        if pg is not None:
            pg.stop()
        with open(os.path.join(OUT, 'result.md'), 'w') as f:
            f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
