#!/usr/bin/python3
"""test_console.py - the SOC console in a real browser on the real stack.

Starts mosquitto (broker/mosquitto-demo.conf), icsentry-collector,
icsentry-web (HTTPS with gen-certs.sh certificates) and drives Debian's
chromium headless through chromedriver (python3-selenium):

  log in; an agent replays an attack capture from $SHARED/pcaps and its
  alerts arrive live; a crafted alert whose title and details hold HTML
  and script arrives the same way and is shown as text, never run;
  filter; open an alert; download its evidence; ack it and see the audit
  entry; every page is saved as a screenshot under $ICSENTRY_BUILD/web-screens.

Prints a Check-style summary line so tests/run-tests.sh counts it, and
exits non-zero when a step fails or the browser is missing (it never
skips silently: a step that the build cannot do yet prints why).
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

BUILD = os.environ.get('ICSENTRY_BUILD', 'build')
SHARED = os.environ.get('SHARED', '../shared')
PCAP = os.path.join(SHARED, 'pcaps', 's7comm-snap7-s300-everything.pcap')
SHOTS = os.path.join(BUILD, 'web-screens')
GENESIS = '0' * 64
XSS_TITLE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
XSS_TOPIC = '"><svg onload="window.__xss=3">'

results = []


def check(name, fn):
    t0 = time.time()
    try:
        fn()
        results.append((name, None))
        print('PASS %-28s (%.1f s)' % (name, time.time() - t0), flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        results.append((name, e))
        print('FAIL %-28s %s' % (name, e), flush=True)
        traceback.print_exc()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, what, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(('127.0.0.1', port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError('%s did not listen on %d' % (what, port))


def wait_for(cond, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError('timed out after %s s waiting for %s' % (timeout, what))


def crafted_alert(site, agent, seq, prev):
    """A chained alert (lib/chain.h) with HTML in its title and details."""
    body = json.dumps({
        'agent': agent, 'site': site, 'seq': seq,
        'ts': time.strftime('%Y-%m-%dT%H:%M:%S.000000Z', time.gmtime()),
        'severity': 'critical', 'detector': 'mqtt.topic', 'technique': None,
        'title': XSS_TITLE, 'proto': 'mqtt',
        'src': {'ip': '10.10.1.66', 'port': 40000},
        'dst': {'ip': '10.10.1.5', 'port': 1883},
        'details': {'topic': XSS_TOPIC}, 'prev_hash': prev},
        separators=(',', ':'))
    h = hashlib.sha256((prev + body).encode()).hexdigest()
    return body[:-1] + ',"hash":"%s"}' % h


class Stack:
    def __init__(self):
        self.web = None
        self.dir = tempfile.mkdtemp(prefix='icsentry-webui-')
        self.procs = []
        self.mqtt_port = free_port()
        self.web_port = free_port()
        self.db = os.path.join(self.dir, 'central.db')

    def spawn(self, argv, log, **kw):
        f = open(os.path.join(self.dir, log), 'ab')
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, **kw)
        self.procs.append(p)
        return p

    def start(self):
        d = self.dir
        os.makedirs(os.path.join(d, 'broker'))
        conf = open('broker/mosquitto-demo.conf').read()
        conf = conf.replace('@PORT@', str(self.mqtt_port)).replace(
            '@DIR@', os.path.join(d, 'broker')).replace(
            '@USER@', subprocess.check_output(['id', '-un']).decode().strip())
        open(os.path.join(d, 'broker', 'mosquitto.conf'), 'w').write(conf)
        mosq = shutil.which('mosquitto') or '/usr/sbin/mosquitto'
        self.spawn([mosq, '-c', os.path.join(d, 'broker', 'mosquitto.conf')],
                   'mosquitto.out')
        wait_port(self.mqtt_port, 'mosquitto')
        self.spawn([os.path.join(BUILD, 'icsentry-collector'), '--mqtt',
                    'tcp://127.0.0.1:%d' % self.mqtt_port, '--db', self.db,
                    '--client-id', 'webui-collector'], 'collector.log')
        wait_for(lambda: os.path.exists(self.db), 10, 'the central log')
        certs = os.path.join(d, 'certs')
        subprocess.run(['sh', 'broker/gen-certs.sh', '-H', 'localhost,127.0.0.1',
                        certs], check=True, capture_output=True)
        self.users = os.path.join(d, 'users')
        for user, role in (('ana', 'analyst'), ('vic', 'viewer')):
            subprocess.run([os.path.join(BUILD, 'icsentry-web'), '--users',
                            self.users, '--add-user', user, '--role', role],
                           input=(user + '-password\n').encode(), check=True,
                           capture_output=True)
        self.web = self.spawn([os.path.join(BUILD, 'icsentry-web'), '--db', self.db,
                    '--listen', '127.0.0.1:%d' % self.web_port,
                    '--cert', os.path.join(certs, 'broker.crt'),
                    '--key', os.path.join(certs, 'broker.key'),
                    '--users', self.users,
                    '--evidence-dir', os.path.join(d, 'evidence')], 'web.log')
        wait_port(self.web_port, 'icsentry-web')
        self.url = 'https://127.0.0.1:%d/' % self.web_port

    def replay(self):
        d = self.dir
        conf = open('config/demo.conf').read()
        conf += '\n[agent]\nstate_file = %s/agent.state\n[mqtt]\npersist_dir = %s/mqtt\n' % (d, d)
        os.makedirs(os.path.join(d, 'mqtt'), exist_ok=True)
        # each alert's evidence pcap where icsentry-web --evidence-dir
        # looks for it (DIR/SITE/AGENT/SEQ.pcap)
        evdir = os.path.join(d, 'evidence', 'plant-a', 'gw-01')
        os.makedirs(evdir, exist_ok=True)
        alerts = os.path.join(d, 'alerts.jsonl')
        for extra in ('[evidence]\ndir = %s\n' % evdir, ''):
            open(os.path.join(d, 'agent.conf'), 'w').write(conf + extra)
            r = subprocess.run([os.path.join(BUILD, 'icsentry-agent'), '-c',
                                os.path.join(d, 'agent.conf'), '-r', PCAP,
                                '--mqtt', 'tcp://127.0.0.1:%d' % self.mqtt_port,
                                '--alerts-out', alerts], capture_output=True,
                               timeout=120)
            if r.returncode == 2 and extra and b'evidence' in r.stderr:
                print('NOTE: this agent has no [evidence] section: %s' %
                      r.stderr.decode().strip()[:200])
                continue
            break
        if r.returncode != 0:
            raise RuntimeError('agent failed: %s' % r.stderr.decode()[-500:])
        return [json.loads(x) for x in open(alerts)]

    def publish(self, topic, payload):
        pub = shutil.which('mosquitto_pub')
        subprocess.run([pub, '-h', '127.0.0.1', '-p', str(self.mqtt_port),
                        '-q', '1', '-t', topic, '-m', payload], check=True,
                       timeout=20)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def browser(download_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu',
              '--disable-dev-shm-usage', '--window-size=1400,1000',
              # the test CA is not in the browser's NSS store; TLS itself
              # is checked against it by check_web (curl --cacert)
              '--ignore-certificate-errors'):
        o.add_argument(a)
    o.add_experimental_option('prefs', {
        'download.default_directory': download_dir,
        'download.prompt_for_download': False})
    drv = webdriver.Chrome(service=Service(shutil.which('chromedriver') or
                                           '/usr/bin/chromedriver'), options=o)
    drv.execute_cdp_cmd('Page.setDownloadBehavior',
                        {'behavior': 'allow', 'downloadPath': download_dir})
    return drv


def main():
    os.makedirs(SHOTS, exist_ok=True)
    st = Stack()
    drv = None
    state = {}
    try:
        st.start()
        dl = os.path.join(st.dir, 'downloads')
        os.makedirs(dl)
        drv = browser(dl)
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        def shot(name):
            # the whole page, not only the window
            h = drv.execute_script('return document.documentElement.scrollHeight')
            drv.set_window_size(1400, max(1000, min(h + 140, 4000)))
            drv.save_screenshot(os.path.join(SHOTS, name + '.png'))
            drv.set_window_size(1400, 1000)

        def rows():
            return drv.find_elements(By.CSS_SELECTOR, '#alerts-table tbody tr')

        def t_login():
            drv.get(st.url)
            wait_for(lambda: drv.find_element(By.ID, 'login-view').is_displayed(),
                     10, 'the login form')
            # a wrong password is refused on the page
            drv.find_element(By.ID, 'login-user').send_keys('ana')
            drv.find_element(By.ID, 'login-pass').send_keys('nope-nope')
            drv.find_element(By.ID, 'login-btn').click()
            wait_for(lambda: 'Wrong' in drv.find_element(By.ID, 'login-msg').text,
                     10, 'the refusal')
            shot('login')
            drv.find_element(By.ID, 'login-user').clear()
            drv.find_element(By.ID, 'login-user').send_keys('ana')
            drv.find_element(By.ID, 'login-pass').send_keys('ana-password')
            drv.find_element(By.ID, 'login-btn').click()
            wait_for(lambda: drv.find_element(By.ID, 'alerts-view').is_displayed(),
                     10, 'the alerts page')
            assert drv.find_element(By.ID, 'who').text == 'ana (analyst)'
            # the session cookie is HttpOnly: the page cannot read it
            assert 'sid' not in drv.execute_script('return document.cookie')
            wait_for(lambda: drv.find_element(By.ID, 'live-status').text == 'live: on',
                     10, 'the live stream')

        def t_live():
            assert len(rows()) == 0, 'the log starts empty'
            t0 = time.time()
            sent = st.replay()
            assert len(sent) == 13, 'the capture raises 13 alerts, got %d' % len(sent)
            wait_for(lambda: len(rows()) == len(sent), 15, '%d live rows' % len(sent))
            state['live_s'] = time.time() - t0
            new = drv.find_elements(By.CSS_SELECTOR, '#alerts-table tbody tr.new')
            assert len(new) == 13
            titles = [r.find_elements(By.TAG_NAME, 'td')[6].text for r in rows()]
            assert 'S7 PLC STOP' in ' '.join(titles).upper() or \
                any('stop' in t.lower() for t in titles), titles
            shot('alerts-live')

        def t_xss():
            st.publish('icsentry/plant-x/gw-x/alert/critical',
                       crafted_alert('plant-x', 'gw-x', 1, GENESIS))
            wait_for(lambda: len(rows()) == 14, 10, 'the crafted alert')
            cell = rows()[0].find_elements(By.TAG_NAME, 'td')[6]
            assert cell.text == XSS_TITLE, cell.text
            assert drv.execute_script('return window.__xss') is None
            assert not drv.find_elements(By.CSS_SELECTOR, '#alerts-table script, '
                                         '#alerts-table img, #alerts-table svg')

        def t_filter():
            Select(drv.find_element(By.ID, 'f-min-sev')).select_by_visible_text('critical')
            drv.find_element(By.ID, 'f-apply').click()
            wait_for(lambda: len(rows()) == 2, 10, 'the 2 critical alerts')
            sevs = [r.find_elements(By.TAG_NAME, 'td')[1].text for r in rows()]
            assert sevs == ['critical', 'critical'], sevs
            shot('alerts-filtered')
            drv.find_element(By.ID, 'f-site').send_keys('plant-a')
            drv.find_element(By.ID, 'f-apply').click()
            wait_for(lambda: len(rows()) == 1, 10, 'the PLC STOP of plant-a')

        def t_open():
            rows()[0].click()
            wait_for(lambda: drv.find_element(By.ID, 'alert-view').is_displayed(),
                     10, 'the alert page')
            wait_for(lambda: drv.find_element(By.ID, 'a-chain').text, 10, 'chain status')
            assert drv.find_element(By.ID, 'a-chain').text.startswith('hash chain: intact')
            fields = drv.find_element(By.ID, 'a-fields').text
            assert 'detector s7.plc_stop' in fields, fields
            assert 'site plant-a' in fields
            # the record's ATT&CK name, description and action when present
            rec = drv.find_element(By.ID, 'a-record').text
            if 'Tactic' not in rec:
                print('NOTE: no ATT&CK name/tactic/description in this build\'s '
                      'alerts (the alert record issue adds them)')
            shot('alert')

        def t_evidence():
            link = drv.find_element(By.ID, 'evidence-link')
            if not link.is_displayed():
                print('SKIP-STEP evidence: this build stores no evidence pcap '
                      'for the alert (the alert record issue adds it)')
                return
            link.click()
            f = wait_for(lambda: [x for x in os.listdir(dl) if x.endswith('.pcap')],
                         15, 'the evidence download')
            data = open(os.path.join(dl, f[0]), 'rb').read()
            assert data[:4] in (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4',
                                b'\x0a\x0d\x0d\x0a'), data[:4]
            # the bytes the alert's chained evidence.sha256 names
            fields = drv.find_element(By.ID, 'a-fields').text
            assert 'evidence.sha256 ' + hashlib.sha256(data).hexdigest() in fields, fields

        def t_ack():
            drv.find_element(By.ID, 'btn-ack').click()
            msg = wait_for(lambda: drv.find_element(By.ID, 'triage-msg').text,
                           10, 'the triage answer')
            assert msg == 'ack recorded by ana', msg
            wait_for(lambda: 'ana' in drv.find_element(By.ID, 'a-audit').text,
                     10, 'the audit entry')
            cells = [td.text for td in drv.find_elements(
                By.CSS_SELECTOR, '#a-audit tbody tr td')]
            assert cells[1:3] == ['ana', 'ack'], cells
            assert drv.find_element(By.ID, 'a-state').text.startswith('state: acked (ana, ')
            # a note with markup stays text
            drv.find_element(By.ID, 'note-text').send_keys('<b>PLC owner called</b>')
            drv.find_element(By.ID, 'btn-note').click()
            wait_for(lambda: '<b>PLC owner called</b>' in
                     drv.find_element(By.ID, 'a-audit').text, 10, 'the note')
            assert not drv.find_elements(By.CSS_SELECTOR, '#a-audit b')
            shot('alert-acked')

        def t_pages():
            for view, probe in (('incidents', '#inc-list .incident'),
                                ('assets', '#assets-table'),
                                ('health', '#agents-table tbody tr'),
                                ('charts', '#chart-sev'),
                                ('verify', '#verify-btn')):
                drv.get(st.url + '#/' + view)
                wait_for(lambda: drv.find_elements(By.CSS_SELECTOR, probe), 10, view)
                if view == 'verify':
                    drv.find_element(By.ID, 'verify-btn').click()
                    wait_for(lambda: 'Result' in drv.find_element(By.ID, 'verify-result').text,
                             20, 'verify')
                    txt = drv.find_element(By.ID, 'verify-result').text
                    assert txt.startswith('Result: ok (14 alerts checked, 0 problems'), txt
                if view == 'health':
                    t = drv.find_element(By.ID, 'agents-table').text
                    assert 'plant-a gw-01' in t, t
                if view == 'incidents':
                    t = drv.find_element(By.ID, 'inc-list').text
                    assert 'attacker 134.217.61.131, 13 alerts' in t, t[:300]
                time.sleep(1)   # charts draw
                shot(view)
            assert drv.execute_script('return window.__xss') is None

        def t_viewer():
            drv.find_element(By.ID, 'logout-btn').click()
            wait_for(lambda: drv.find_element(By.ID, 'login-view').is_displayed(),
                     10, 'logged out')
            # logged out for real: the session is gone on the server too
            drv.get(st.url + '#/alerts')
            wait_for(lambda: drv.find_element(By.ID, 'login-view').is_displayed(),
                     10, 'the login form again')
            drv.find_element(By.ID, 'login-user').send_keys('vic')
            drv.find_element(By.ID, 'login-pass').send_keys('vic-password')
            drv.find_element(By.ID, 'login-btn').click()
            wait_for(lambda: len(rows()) == 14, 10, 'the viewer\'s alerts')
            rows()[0].click()
            wait_for(lambda: drv.find_element(By.ID, 'alert-view').is_displayed(),
                     10, 'the alert page')
            wait_for(lambda: 'seq' in drv.find_element(By.ID, 'a-fields').text,
                     10, 'the alert\'s fields')
            assert not drv.find_element(By.ID, 'btn-ack').is_enabled()
            assert not drv.find_element(By.ID, 'btn-note').is_enabled()

        for name, fn in (('login', t_login), ('live alerts', t_live),
                         ('xss inert', t_xss), ('filter', t_filter),
                         ('open alert', t_open), ('evidence', t_evidence),
                         ('ack and audit', t_ack), ('pages', t_pages),
                         ('viewer read-only', t_viewer)):
            check(name, fn)
        if 'live_s' in state:
            print('live: 13 alerts replayed and shown in %.1f s' % state['live_s'])
    except Exception as e:  # noqa: BLE001
        results.append(('stack', e))
        print('FAIL stack: %s' % e)
        traceback.print_exc()
    finally:
        if drv is not None:
            drv.quit()
        st.stop()
        if st.web is not None:
            # icsentry-web stops cleanly: exit 0, no sanitizer report
            log = open(os.path.join(st.dir, 'web.log'), errors='replace').read()
            ok = st.web.returncode == 0 and 'Sanitizer' not in log and \
                'runtime error' not in log
            results.append(('clean stop', None if ok else AssertionError(
                'icsentry-web exit %s' % st.web.returncode)))
            print('%s clean stop' % ('PASS' if ok else 'FAIL'))
        failed = [r for r in results if r[1] is not None]
        if failed:
            for f in ('web.log', 'collector.log'):
                p = os.path.join(st.dir, f)
                if os.path.exists(p):
                    print('---- %s' % f)
                    print(open(p, errors='replace').read()[-3000:])
        shutil.rmtree(st.dir, ignore_errors=True)
    n = len(results)
    f = len([r for r in results if r[1] is not None])
    print('%d%%: Checks: %d, Failures: %d, Errors: 0' %
          (100 * (n - f) // max(n, 1), n, f))
    print('screenshots: %s' % SHOTS)
    return 1 if f else 0


if __name__ == '__main__':
    sys.exit(main())
