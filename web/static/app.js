/*
 * app.js - icsentry's SOC console page (plain JS, no framework).
 *
 * Every value from the log reaches the page through textContent or an
 * attribute set with setAttribute on an element made here: alert titles
 * and details carry bytes from packets, and are never parsed as HTML.
 */
'use strict';

const S = { user: null, role: null, csrf: null, es: null, next: null,
  filters: {}, charts: {}, view: null, timer: null };
const SEVS = ['info', 'low', 'medium', 'high', 'critical'];
const SEV_COLOURS = { info: '#6b7785', low: '#2e7d32', medium: '#c28a00',
  high: '#d2570f', critical: '#b00020' };

function $(id) { return document.getElementById(id); }

/* An element with text (never HTML) and optional class. */
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') {
    opt.headers['X-CSRF-Token'] = S.csrf || '';
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opt);
  let j = null;
  try { j = await r.json(); } catch (e) { j = null; }
  if (r.status === 401 && path !== '/api/login') { showLogin(); }
  return { status: r.status, json: j };
}

/* ---- login ---------------------------------------------------------- */

function showLogin() {
  stopStream();
  S.user = null;
  $('top').hidden = true;
  for (const s of document.querySelectorAll('main > section')) s.hidden = true;
  /* nothing of the last user's session stays on the page */
  $('login-user').value = '';
  $('login-pass').value = '';
  for (const k in FILTERS) $(FILTERS[k]).value = '';
  clear($('alerts-table').tBodies[0]);
  $('live-new').textContent = '';
  $('login-view').hidden = false;
}

async function doLogin(ev) {
  ev.preventDefault();
  $('login-msg').textContent = '';
  const r = await api('POST', '/api/login',
    { user: $('login-user').value, password: $('login-pass').value });
  $('login-pass').value = '';
  if (r.status !== 200) {
    $('login-msg').textContent = r.status === 429 ?
      'Too many failed logins: wait a minute.' : 'Wrong user or password.';
    return;
  }
  setSession(r.json);
  route();
}

function setSession(j) {
  S.user = j.user; S.role = j.role; S.csrf = j.csrf;
  $('who').textContent = j.user + ' (' + j.role + ')';
  $('top').hidden = false;
  $('login-view').hidden = true;
}

async function logout() {
  await api('POST', '/api/logout');
  showLogin();
}

/* ---- routing --------------------------------------------------------- */

function route() {
  if (!S.user) { showLogin(); return; }
  const h = (location.hash || '#/alerts').slice(2).split('/');
  const view = h[0] || 'alerts';
  for (const s of document.querySelectorAll('main > section')) s.hidden = true;
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', a.id === 'nav-' + view);
  if (S.timer) { clearInterval(S.timer); S.timer = null; }
  S.view = view;
  if (view === 'alert') { $('alert-view').hidden = false; showAlert(h[1], h[2]); return; }
  const sec = $(view + '-view');
  if (!sec) { location.hash = '#/alerts'; return; }
  sec.hidden = false;
  if (view === 'alerts') loadAlerts(false);
  else if (view === 'incidents') loadIncidents();
  else if (view === 'assets') loadAssets();
  else if (view === 'health') { loadHealth(); S.timer = setInterval(loadHealth, 10000); }
  else if (view === 'charts') loadCharts();
}

/* ---- alerts ---------------------------------------------------------- */

const FILTERS = { site: 'f-site', agent: 'f-agent', min_severity: 'f-min-sev',
  technique: 'f-technique', detector: 'f-detector', host: 'f-host',
  since: 'f-since', until: 'f-until', q: 'f-q', state: 'f-state' };

function filterQuery() {
  const p = new URLSearchParams();
  for (const k in FILTERS) {
    const v = $(FILTERS[k]).value.trim();
    if (v) p.set(k, v);
  }
  return p;
}

function sevBadge(s) { return el('span', s, 'sev sev-' + (SEVS.includes(s) ? s : 'info')); }

function addr(e) {
  if (!e || typeof e !== 'object') return '';
  let t = e.ip || '';
  if (e.port !== undefined && e.port !== null) t += ':' + e.port;
  if (e.asset && typeof e.asset === 'object' && e.asset.name) t += ' (' + e.asset.name + ')';
  else if (typeof e.asset === 'string') t += ' (' + e.asset + ')';
  return t;
}

function alertRow(row, fresh) {
  const a = row.alert || {};
  const tr = el('tr', null, fresh ? 'new' : '');
  tr.dataset.id = row.id;
  tr.dataset.ts = row.ts_us;
  tr.appendChild(el('td', a.ts));
  const sv = el('td'); sv.appendChild(sevBadge(a.severity)); tr.appendChild(sv);
  tr.appendChild(el('td', a.site + '/' + a.agent));
  tr.appendChild(el('td', a.seq));
  tr.appendChild(el('td', a.detector));
  tr.appendChild(el('td', a.technique_name ? a.technique + ' ' + a.technique_name : a.technique));
  tr.appendChild(el('td', a.title, 'title'));
  tr.appendChild(el('td', addr(a.src)));
  tr.appendChild(el('td', addr(a.dst)));
  tr.appendChild(el('td', row.triage ? row.triage.state : 'new', 'state'));
  tr.addEventListener('click', () => {
    location.hash = '#/alert/' + encodeURIComponent(row.id) + '/' + encodeURIComponent(row.ts_us);
  });
  return tr;
}

async function loadAlerts(more) {
  const p = filterQuery();
  p.set('limit', '100');
  if (more && S.next) p.set('before', S.next);
  const r = await api('GET', '/api/alerts?' + p.toString());
  const tb = $('alerts-table').tBodies[0];
  if (!more) clear(tb);
  if (r.status !== 200) { $('alerts-count').textContent = 'Error: ' + (r.json && r.json.error); return; }
  for (const row of r.json.alerts) tb.appendChild(alertRow(row, false));
  S.next = r.json.next;
  $('older-btn').hidden = !S.next;
  $('alerts-count').textContent = tb.rows.length + ' alerts shown' + (S.next ? ' (more older)' : '');
  startStream();
}

/* Does a streamed alert pass the filters shown?  (The stream itself is
 * filtered by site and severity; the rest is checked here.) */
function passes(row) {
  const a = row.alert || {};
  const f = filterQuery();
  const glob = (pat, v) => {
    const re = new RegExp('^' + pat.replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
    return re.test(v || '');
  };
  if (f.get('agent') && !glob(f.get('agent'), a.agent)) return false;
  if (f.get('technique') && !glob(f.get('technique'), a.technique)) return false;
  if (f.get('detector') && !glob(f.get('detector'), a.detector)) return false;
  if (f.get('q') && JSON.stringify(a).toLowerCase().indexOf(f.get('q').toLowerCase()) < 0) return false;
  if (f.get('host') && f.get('host').indexOf('/') < 0 &&
      (a.src || {}).ip !== f.get('host') && (a.dst || {}).ip !== f.get('host')) return false;
  if (f.get('until')) return false;   /* a window in the past: nothing live */
  if (f.get('state') && f.get('state') !== 'new') return false;   /* new alerts are new */
  return true;
}

function stopStream() {
  if (S.es) { S.es.close(); S.es = null; }
  const ls = $('live-status');
  ls.textContent = 'live: off'; ls.className = 'live off';
}

function startStream() {
  stopStream();
  const p = new URLSearchParams();
  const f = filterQuery();
  if (f.get('site')) p.set('site', f.get('site'));
  if (f.get('min_severity')) p.set('min_severity', f.get('min_severity'));
  const es = new EventSource('/api/alerts/stream?' + p.toString());
  S.es = es;
  let fresh = 0;
  es.onopen = () => { const ls = $('live-status'); ls.textContent = 'live: on'; ls.className = 'live on'; };
  es.onerror = () => { const ls = $('live-status'); ls.textContent = 'live: reconnecting'; ls.className = 'live off'; };
  es.addEventListener('alert', (ev) => {
    let row;
    try { row = JSON.parse(ev.data); } catch (e) { return; }
    if (S.view !== 'alerts' || !passes(row)) return;
    const tb = $('alerts-table').tBodies[0];
    tb.insertBefore(alertRow(row, true), tb.firstChild);
    fresh++;
    $('live-new').textContent = fresh + ' new since loaded';
  });
}

/* ---- one alert ------------------------------------------------------- */

function flatten(prefix, v, out) {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const k of Object.keys(v)) flatten(prefix ? prefix + '.' + k : k, v[k], out);
  } else {
    out.push([prefix, Array.isArray(v) ? JSON.stringify(v) : v]);
  }
}

/* An endpoint's asset as words: its name, else vendor and model. */
function assetName(e) {
  const x = e && e.asset;
  if (!x || typeof x !== 'object') return typeof x === 'string' ? x : null;
  const t = x.name || [x.vendor, x.model, x.role].filter(Boolean).join(' ');
  return t || null;
}

async function showAlert(id, ts) {
  /* nothing of the alert shown before, no button live until the role is known */
  for (const b of ['btn-ack', 'btn-close', 'btn-reopen', 'btn-note']) $(b).disabled = true;
  clear($('a-fields').tBodies[0]);
  $('a-title').textContent = '';
  const r = await api('GET', '/api/alert?id=' + encodeURIComponent(id) + '&ts_us=' + encodeURIComponent(ts));
  $('triage-msg').textContent = '';
  if (r.status !== 200) { $('a-title').textContent = 'Alert not found'; return; }
  const row = r.json.row, a = row.alert || {};
  S.alert = a;
  $('a-title').textContent = a.title || a.detector;
  const sv = $('a-sev'); sv.textContent = a.severity; sv.className = 'sev sev-' + a.severity;
  const t = row.triage || {};
  $('a-state').textContent = 'state: ' + (t.state || 'new') + (t.user ? ' (' + t.user + ', ' + t.at + ')' : '') +
    (t.incident ? ', incident ' + t.incident : '');
  const ch = r.json.chain || {};
  const cs = $('a-chain');
  cs.textContent = 'hash chain: ' + ch.status + (ch.chain_alerts !== undefined ?
    ' (' + ch.chain_alerts + ' alerts of ' + a.site + '/' + a.agent + ', ' + ch.chain_problems + ' problems)' : '');
  cs.className = 'chain ' + (ch.status === 'intact' ? 'ok' : 'bad');
  /* the record: ATT&CK, description, recommended action, assets */
  const rec = $('a-record'); clear(rec);
  const recf = [['Technique', a.technique ? a.technique + (a.technique_name ? ' ' + a.technique_name : '') : null],
    ['Tactic', a.tactic], ['Description', a.description], ['Recommended action', a.action],
    ['Source asset', assetName(a.src)], ['Destination asset', assetName(a.dst)]];
  for (const [k, v] of recf) {
    if (v === undefined || v === null) continue;
    rec.appendChild(el('h4', k));
    rec.appendChild(el('p', v));
  }
  rec.hidden = !rec.firstChild;
  const tb = $('a-fields').tBodies[0]; clear(tb);
  const kv = []; flatten('', a, kv);
  kv.push(['received_at', row.received_at], ['log id', row.id]);
  for (const [k, v] of kv) {
    const tr = el('tr'); tr.appendChild(el('td', k)); tr.appendChild(el('td', v)); tb.appendChild(tr);
  }
  const ev = $('evidence-link');
  const base = '/api/alerts/' + encodeURIComponent(a.site) + '/' + encodeURIComponent(a.agent) + '/' + encodeURIComponent(a.seq);
  ev.setAttribute('href', base + '/evidence');
  ev.hidden = !r.json.evidence_available;
  const can = S.role === 'analyst' || S.role === 'admin';
  for (const b of ['btn-ack', 'btn-close', 'btn-reopen', 'btn-note']) $(b).disabled = !can;
  $('note-text').disabled = !can;
  S.triageBase = base;
  const at = $('a-audit').tBodies[0]; clear(at);
  for (const e of (r.json.audit || [])) {
    const tr = el('tr');
    tr.appendChild(el('td', e.ts)); tr.appendChild(el('td', e.operator));
    tr.appendChild(el('td', e.action)); tr.appendChild(el('td', e.note || ''));
    at.appendChild(tr);
  }
  const it = $('a-issues').tBodies[0]; clear(it);
  for (const i of (ch.issues || [])) {
    const tr = el('tr');
    tr.appendChild(el('td', i.problem)); tr.appendChild(el('td', 'seq ' + i.seq + (i.seq_to !== i.seq ? '..' + i.seq_to : '')));
    tr.appendChild(el('td', i.detail)); it.appendChild(tr);
  }
}

async function triage(action) {
  const body = action === 'note' ? { note: $('note-text').value } : {};
  const r = await api('POST', S.triageBase + '/' + action, body);
  $('triage-msg').textContent = r.status === 200 ? action + ' recorded by ' + S.user :
    action + ' failed (' + r.status + '): ' + ((r.json && r.json.error) || '');
  if (r.status === 200) {
    const h = location.hash.slice(2).split('/');
    showAlert(h[1], h[2]).then(() => {
      $('triage-msg').textContent = action + ' recorded by ' + S.user;
    });
  }
}

/* ---- incidents ------------------------------------------------------- */

async function loadIncidents() {
  const r = await api('GET', '/api/incidents');
  const list = $('inc-list'); clear(list);
  if (r.status !== 200) return;
  $('inc-source').textContent = r.json.source || '';
  for (const inc of r.json.incidents) {
    const d = el('div', null, 'incident');
    const h = el('h3', 'Incident ' + inc.id + ': attacker ' + inc.attacker + ', ' + inc.count + ' alerts, ' +
      inc.first + ' to ' + inc.last + ' ');
    h.appendChild(sevBadge(SEVS[inc.max_sev] || 'info'));
    d.appendChild(h);
    d.appendChild(el('p', 'targets: ' + (inc.hosts || '-') + '; techniques: ' + (inc.techniques || '-') +
      '; state: ' + inc.state + (inc.user ? ' (' + inc.user + ')' : ''), 'meta'));
    if (S.role === 'analyst' || S.role === 'admin') {
      for (const act of ['ack', 'close']) {
        const b = el('button', act === 'ack' ? 'Acknowledge incident' : 'Close incident');
        b.type = 'button';
        b.addEventListener('click', async () => {
          const res = await api('POST', '/api/incidents/' + encodeURIComponent(inc.id) + '/' + act);
          if (res.status === 200) loadIncidents();
        });
        d.appendChild(b);
      }
    }
    const t = el('table', null, 'grid'); const tb = el('tbody');
    for (const e of inc.timeline) {
      const tr = el('tr');
      tr.appendChild(el('td', e.ts));
      const sv = el('td'); sv.appendChild(sevBadge(e.severity)); tr.appendChild(sv);
      tr.appendChild(el('td', e.site + '/' + e.agent + ' #' + e.seq));
      tr.appendChild(el('td', e.detector)); tr.appendChild(el('td', e.technique || ''));
      tr.appendChild(el('td', e.title)); tr.appendChild(el('td', e.dst_ip ? '\u2192 ' + e.dst_ip : ''));
      tr.addEventListener('click', () => { location.hash = '#/alert/' + e.id + '/' + e.ts_us; });
      tb.appendChild(tr);
    }
    t.appendChild(tb); d.appendChild(t); list.appendChild(d);
  }
  if (!list.firstChild) list.appendChild(el('p', 'No incidents.', 'meta'));
}

/* ---- assets and the communication map -------------------------------- */

function fmtList(v) {
  if (Array.isArray(v)) return v.join(', ');
  if (v && typeof v === 'object') return Object.keys(v).join(', ');
  return v === undefined || v === null ? '' : String(v);
}

async function loadAssets() {
  const r = await api('GET', '/api/assets');
  const tb = $('assets-table').tBodies[0]; clear(tb);
  const sites = new Set();
  if (r.status === 200) {
    for (const x of r.json.assets) {
      const a = x.asset || {};
      sites.add(x.site);
      const tr = el('tr');
      for (const v of [x.site, x.agent, x.ip, a.vendor, a.model, a.firmware,
        fmtList(a.roles || a.role), fmtList(a.protocols || a.protos), a.first_seen, a.last_seen || x.last_seen])
        tr.appendChild(el('td', v === undefined ? '' : v));
      tb.appendChild(tr);
    }
  }
  const al = await api('GET', '/api/alerts?limit=1000');
  const rows = al.status === 200 ? al.json.alerts : [];
  for (const row of rows) sites.add(row.alert.site);
  const sel = $('map-site');
  const cur = sel.value;
  clear(sel);
  for (const s of [...sites].sort()) { const o = el('option', s); o.value = s; sel.appendChild(o); }
  if (cur && sites.has(cur)) sel.value = cur;
  S.mapRows = rows; S.mapAssets = r.status === 200 ? r.json.assets : [];
  drawMap();
}

function drawMap() {
  const site = $('map-site').value;
  const cv = $('map'), g = cv.getContext('2d');
  g.clearRect(0, 0, cv.width, cv.height);
  const nodes = new Map(), edges = new Map();
  const node = (ip) => { if (ip && !nodes.has(ip)) nodes.set(ip, { ip, n: 0 }); return nodes.get(ip); };
  for (const x of S.mapAssets || []) if (x.site === site) node(x.ip);
  for (const row of S.mapRows || []) {
    const a = row.alert;
    if (a.site !== site || !a.src || !a.dst || !a.src.ip || !a.dst.ip) continue;
    node(a.src.ip).n++; node(a.dst.ip).n++;
    const k = a.src.ip + '|' + a.dst.ip + '|' + (a.proto || '?');
    edges.set(k, (edges.get(k) || 0) + 1);
  }
  const list = [...nodes.values()];
  const cx = cv.width / 2, cy = cv.height / 2, R = Math.min(cx, cy) - 70;
  list.forEach((nd, i) => {
    const t = 2 * Math.PI * i / Math.max(list.length, 1);
    nd.x = cx + R * Math.cos(t); nd.y = cy + R * Math.sin(t);
  });
  const protos = [...new Set([...edges.keys()].map((k) => k.split('|')[2]))];
  const palette = ['#1d5fa8', '#d2570f', '#2e7d32', '#8e24aa', '#c28a00', '#00838f', '#b00020'];
  const colour = (p) => palette[protos.indexOf(p) % palette.length];
  g.lineWidth = 2;
  for (const [k, n] of edges) {
    const [s, d, p] = k.split('|');
    const a = nodes.get(s), b = nodes.get(d);
    g.strokeStyle = colour(p); g.lineWidth = Math.min(1 + Math.log2(n + 1), 6);
    g.beginPath(); g.moveTo(a.x, a.y); g.lineTo(b.x, b.y); g.stroke();
    const ang = Math.atan2(b.y - a.y, b.x - a.x), hx = b.x - 14 * Math.cos(ang), hy = b.y - 14 * Math.sin(ang);
    g.beginPath(); g.moveTo(hx, hy);
    g.lineTo(hx - 9 * Math.cos(ang - 0.4), hy - 9 * Math.sin(ang - 0.4));
    g.lineTo(hx - 9 * Math.cos(ang + 0.4), hy - 9 * Math.sin(ang + 0.4));
    g.closePath(); g.fillStyle = colour(p); g.fill();
  }
  g.font = '12px sans-serif'; g.textAlign = 'center';
  for (const nd of list) {
    g.fillStyle = '#1d2b3a'; g.beginPath(); g.arc(nd.x, nd.y, 10, 0, 2 * Math.PI); g.fill();
    g.fillText(nd.ip, nd.x, nd.y + (nd.y >= cy ? 26 : -16));
  }
  const lg = $('map-legend'); clear(lg);
  for (const p of protos) { const s = el('span', '\u25A0 ' + p); s.style.color = colour(p); lg.appendChild(s); }
  if (!list.length) lg.appendChild(el('span', 'No traffic seen for this site.', 'muted'));
}

/* ---- fleet health ---------------------------------------------------- */

async function loadHealth() {
  const r = await api('GET', '/api/agents');
  if (r.status !== 200) return;
  const tb = $('agents-table').tBodies[0]; clear(tb);
  const datasets = [];
  for (const a of r.json.agents) {
    const h = a.history || [];
    const pps = h.length ? h[h.length - 1].pps : null;
    const stale = a.last_seen_age_s !== undefined && a.last_seen_age_s > 120;
    const offline = a.status !== 'online' || stale;
    const tr = el('tr', null, offline ? 'offline' : '');
    tr.appendChild(el('td', a.site)); tr.appendChild(el('td', a.agent));
    tr.appendChild(el('td', offline ? 'OFFLINE' + (a.status === 'online' ? ' (silent ' + a.last_seen_age_s + ' s)' : '') : 'online',
      offline ? 'status-offline' : 'status-online'));
    tr.appendChild(el('td', a.last_seen));
    tr.appendChild(el('td', a.packets !== undefined ? a.packets : ''));
    tr.appendChild(el('td', pps === null ? '' : pps.toFixed(1)));
    tr.appendChild(el('td', a.dropped !== undefined ? a.dropped : ''));
    tr.appendChild(el('td', a.backlog !== undefined ? a.backlog : ''));
    tb.appendChild(tr);
    datasets.push({ label: a.site + '/' + a.agent + ' pps',
      data: h.map((p) => ({ x: new Date(p.t_us / 1000).toLocaleTimeString(), y: p.pps })) });
    datasets.push({ label: a.site + '/' + a.agent + ' backlog',
      data: h.map((p) => ({ x: new Date(p.t_us / 1000).toLocaleTimeString(), y: p.backlog })) });
  }
  chart('health-chart', { type: 'line', data: { datasets },
    options: { animation: false, maintainAspectRatio: false, parsing: true } });
}

/* ---- charts ---------------------------------------------------------- */

function chart(id, cfg) {
  if (typeof Chart === 'undefined') return;
  if (S.charts[id]) S.charts[id].destroy();
  S.charts[id] = new Chart($(id), cfg);
}

async function loadCharts() {
  const r = await api('GET', '/api/stats?hours=24');
  if (r.status !== 200) return;
  const hours = r.json.hours;
  const labels = hours.map((h) => h.start.slice(5, 16).replace('T', ' '));
  const datasets = SEVS.slice().reverse().map((s) => ({ label: s, backgroundColor: SEV_COLOURS[s],
    data: hours.map((h) => h.by_severity[s] || 0) }));
  chart('chart-sev', { type: 'bar', data: { labels, datasets },
    options: { animation: false, maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true } } } });
  const det = Object.entries(r.json.by_detector).slice(0, 20);
  chart('chart-det', { type: 'bar', data: { labels: det.map((d) => d[0]),
    datasets: [{ label: 'alerts (24 h)', backgroundColor: '#1d5fa8', data: det.map((d) => d[1]) }] },
    options: { animation: false, maintainAspectRatio: false, indexAxis: 'y' } });
}

/* ---- verify ---------------------------------------------------------- */

async function runVerify() {
  $('verify-result').textContent = 'verifying...';
  const r = await api('POST', '/api/verify');
  const tb = $('verify-issues').tBodies[0]; clear(tb);
  if (r.status !== 200) { $('verify-result').textContent = 'verify failed: ' + r.status; return; }
  const au = r.json.audit || { entries: 0, problems: 0, issues: [] };
  $('verify-result').textContent = 'Result: ' + r.json.status + ' (' + r.json.alerts + ' alerts checked, ' +
    r.json.problems + ' problems; audit trail: ' + au.entries + ' entries, ' + au.problems + ' problems)';
  for (const i of r.json.issues) {
    const tr = el('tr');
    for (const v of [i.site + '/' + i.agent, 'seq ' + i.seq, i.problem, i.detail]) tr.appendChild(el('td', v));
    tb.appendChild(tr);
  }
  for (const line of au.issues) {
    const tr = el('tr');
    for (const v of ['audit trail', '', 'audit', line]) tr.appendChild(el('td', v));
    tb.appendChild(tr);
  }
}

/* ---- start ----------------------------------------------------------- */

document.addEventListener('DOMContentLoaded', async () => {
  $('login-form').addEventListener('submit', doLogin);
  $('logout-btn').addEventListener('click', logout);
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); loadAlerts(false); });
  $('f-clear').addEventListener('click', () => {
    for (const k in FILTERS) $(FILTERS[k]).value = '';
    loadAlerts(false);
  });
  $('older-btn').addEventListener('click', () => loadAlerts(true));
  $('btn-ack').addEventListener('click', () => triage('ack'));
  $('btn-close').addEventListener('click', () => triage('close'));
  $('btn-reopen').addEventListener('click', () => triage('reopen'));
  $('btn-note').addEventListener('click', () => triage('note'));
  $('verify-btn').addEventListener('click', runVerify);
  $('map-site').addEventListener('change', drawMap);
  window.addEventListener('hashchange', route);
  const r = await api('GET', '/api/session');
  if (r.status === 200) setSession(r.json);
  route();
});
