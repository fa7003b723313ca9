// PayTrack dashboard: a browser app on LND's REST gateway and WebSocket proxy, served by
// paytrackd itself. Rules kept here: the macaroon lives in this closure only (never in the
// URL, storage or cookies); every value from the API reaches the DOM as text (textContent,
// SVG text nodes), never as markup; only visible payment rows exist in the DOM.
'use strict';
(() => {
  const ROW_H = 28;                  // px, matches --row in app.css
  const MAX_KEPT = 20000;            // payments held in memory (newest first); older ones stay in the daemon
  const LIST_PAGE = 2000;            // ListPayments page size when loading history
  const NET_REFRESH_MS = 1000;       // balances refreshed at most once a second, only after payment events
  const LATENCY_RING = 65536;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const KEYSEND_TYPE = '5482373484';

  let macaroon = null;               // hex, memory only
  const $ = (id) => document.getElementById(id);

  // ---- small helpers ----------------------------------------------------------------------
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const svg = (tag, attrs, text) => {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  };
  const hexToBytes = (h) => {
    if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new Error('not hex');
    const b = new Uint8Array(h.length / 2);
    for (let i = 0; i < b.length; i++) b[i] = parseInt(h.substr(i * 2, 2), 16);
    return b;
  };
  const bytesToHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const b64 = (bytes) => { let s = ''; for (const x of bytes) s += String.fromCharCode(x); return btoa(s); };
  const b64ToBytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const b64url = (bytes) => b64(bytes).replace(/\+/g, '-').replace(/\//g, '_');
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const randomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));
  const num = (v) => (v === undefined || v === null || v === '') ? 0 : Number(v);
  const sat = (msat) => num(msat) / 1000;
  const fmtSat = (s) => Number.isInteger(s) ? s.toLocaleString('en-US') : s.toLocaleString('en-US', { maximumFractionDigits: 3 });
  const short = (n) => n >= 1e6 ? (n / 1e6).toFixed(n >= 1e7 ? 0 : 2).replace(/\.?0+$/, '') + 'M'
    : n >= 1e3 ? (n / 1e3).toFixed(n >= 1e4 ? 0 : 1).replace(/\.0$/, '') + 'k' : String(Math.round(n));
  const nsToMs = (ns) => num(ns) / 1e6;
  const fmtTime = (ms) => {
    if (!ms) return '';
    const d = new Date(ms);
    return d.toLocaleTimeString('en-GB', { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  };
  const nowMs = () => performance.timeOrigin + performance.now();

  // ---- the API, as any browser app on LND uses it ------------------------------------------
  class APIError extends Error {
    constructor(http, code, message) { super(message); this.http = http; this.code = code; }
    get unserved() { return this.http === 501 || this.http === 404; }
  }

  /** `opts.node` ({alias, url, macaroon}) sends the call to another served node's REST listener. */
  async function api(path, opts = {}) {
    const headers = { Accept: 'application/json' };
    const mac = opts.node ? opts.node.macaroon : macaroon;
    if (mac) headers['Grpc-Metadata-macaroon'] = mac;
    let body;
    if (opts.body !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.body); }
    const r = await fetch((opts.node ? opts.node.url : '') + path,
                          { method: opts.method || 'GET', headers, body, cache: 'no-store', credentials: 'omit' });
    const text = await r.text();
    let j = null;
    try { j = text ? JSON.parse(text) : {}; } catch (_) { /* not JSON */ }
    if (!r.ok) throw new APIError(r.status, j && j.code, (j && j.message) || text || ('HTTP ' + r.status));
    return j;
  }

  /** A WebSocket call through LND's proxy: macaroon as the Grpc-Metadata-Macaroon+<hex> subprotocol. */
  function stream(path, { method, body, onMessage, onClose, node }) {
    const host = node ? 'wss://' + node.url.slice('https://'.length) : 'wss://' + location.host;
    const url = host + path + (method ? (path.includes('?') ? '&' : '?') + 'method=' + method : '');
    const mac = node ? node.macaroon : macaroon;
    const ws = mac ? new WebSocket(url, ['Grpc-Metadata-Macaroon+' + mac]) : new WebSocket(url);
    ws.onopen = () => { if (body !== undefined) ws.send(JSON.stringify(body)); };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      onMessage(m);
    };
    ws.onclose = (e) => { if (onClose) onClose(e); };
    return ws;
  }

  // ---- state ------------------------------------------------------------------------------
  const state = {
    info: null,
    nodes: new Map(),            // pubkey -> {alias, served, online}
    channels: [],                // normalized: {id, n1, n2, cap, b1, b2, l1, l2, priv}
    networkSource: null,         // 'paytrack' | 'graph' | null
    payments: new Map(),         // payment_hash -> row(Payment): what the table shows
    full: new Map(),             // payment_hash -> Payment JSON, for live payments and the selected one
    order: [],                   // payment hashes by payment_index ascending
    view: null,                  // filtered hashes (newest first) or null = order reversed
    selected: null,
    invoices: new Map(),         // r_hash (base64) -> Invoice JSON
    holds: new Map(),            // r_hash (base64) -> {preimage, node}
    peers: [],                   // other served nodes: {alias, url, macaroon}
    unserved: new Set(),
  };
  const metrics = {              // read by the browser tests and Benchmarks/dashboard
    latencies: new Float64Array(LATENCY_RING), count: 0, messages: 0, renders: 0,
    pending: [],
    record(ms) { this.latencies[this.count % LATENCY_RING] = ms; this.count++; },
    summary() {
      const n = Math.min(this.count, LATENCY_RING);
      const a = Array.from(this.latencies.subarray(0, n)).sort((x, y) => x - y);
      const q = (p) => n ? a[Math.min(n - 1, Math.floor(p * n))] : null;
      return { samples: n, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: n ? a[n - 1] : null,
               messages: this.messages, renders: this.renders, kept: state.payments.size };
    },
    reset() { this.count = 0; this.messages = 0; this.renders = 0; },
    /** The samples recorded since the last drain (at most the ring's size), then forgets them. */
    drain() {
      const n = Math.min(this.count, LATENCY_RING);
      const out = Array.from(this.latencies.subarray(0, n));
      this.count = 0;
      return out;
    },
  };
  window.paytrackDashboard = { metrics, get selected() { return state.selected; },
    select: (h) => selectPayment(h) };

  let dirty = { table: false, detail: false, graph: false, routes: false };
  let renderQueued = false;
  function schedule(what) {
    dirty[what] = true;
    if (renderQueued) return;
    renderQueued = true;
    // rAF batches DOM writes per frame; a timer backs it up when frames are not produced (hidden tab).
    const run = () => { if (renderQueued) { renderQueued = false; render(); } };
    requestAnimationFrame(run);
    setTimeout(run, 100);
  }

  function setConn(text, cls) { const c = $('conn'); c.textContent = text; c.className = 'conn ' + (cls || ''); }

  // ---- payments -----------------------------------------------------------------------------
  function paymentIndex(p) { return p.payment_index; }
  function updateTimeMs(p) {
    let t = nsToMs(p.creation_time_ns);
    for (const h of p.htlcs || []) t = Math.max(t, nsToMs(h.attempt_time_ns), nsToMs(h.resolve_time_ns));
    return t;
  }

  const terminal = (p) => p.status === 'SUCCEEDED' || p.status === 'FAILED';
  /** True if snapshot `p` is older than `old` (two streams, or a reload, may deliver out of order). */
  function stale(old, p) {
    const n = (p.htlcs || []).length;
    if (terminal(old)) return !terminal(p) || n < old.attempts;
    return !terminal(p) && updateTimeMs(p) < old.updated;
  }

  /**
   * What the table needs of a payment (a few hundred bytes): the full snapshot, with every
   * attempt's route, is kept only while the payment is live or selected (`state.full`).
   */
  function row(p) {
    return { payment_hash: p.payment_hash, payment_index: num(p.payment_index), status: p.status,
             value_msat: p.value_msat, fee_msat: p.fee_msat, creation_time_ns: p.creation_time_ns,
             payment_request: p.payment_request || '', failure_reason: p.failure_reason,
             attempts: (p.htlcs || []).length, dest: destinationOf(p), updated: updateTimeMs(p) };
  }

  function upsertPayment(p, live) {
    const h = p.payment_hash;
    if (!h) return;
    const old = state.payments.get(h);
    if (old && stale(old, p)) return;
    state.payments.set(h, row(p));
    if (!terminal(p) || h === state.selected) state.full.set(h, p); else state.full.delete(h);
    if (!old) {
      const idx = num(p.payment_index);
      const o = state.order;
      if (!o.length || paymentIndex(state.payments.get(o[o.length - 1])) <= idx) o.push(h);
      else {
        let lo = 0, hi = o.length;
        while (lo < hi) { const mid = (lo + hi) >> 1; if (paymentIndex(state.payments.get(o[mid])) < idx) lo = mid + 1; else hi = mid; }
        o.splice(lo, 0, h);
      }
      if (o.length > MAX_KEPT + 1000) evict();
    }
    if (live && metrics.pending.length < LATENCY_RING) metrics.pending.push(updateTimeMs(p));
    state.view = null;
    schedule('table');
    if (h === state.selected) { schedule('detail'); schedule('routes'); }
  }

  /** Keeps the newest MAX_KEPT payments (in-flight ones always stay). */
  function evict() {
    const drop = state.order.length - MAX_KEPT;
    const keep = [];
    let dropped = 0;
    for (const h of state.order) {
      const p = state.payments.get(h);
      if (dropped < drop && terminal(p) && h !== state.selected) {
        state.payments.delete(h); state.full.delete(h); dropped++;
      } else keep.push(h);
    }
    state.order = keep;
  }

  async function loadPayments() {
    // Newest first, page by page, up to MAX_KEPT.
    let offset = 0, loaded = 0;
    for (;;) {
      const q = `/v1/payments?include_incomplete=true&reversed=true&max_payments=${LIST_PAGE}` + (offset ? `&index_offset=${offset}` : '');
      const r = await api(q);
      const ps = r.payments || [];
      for (const p of ps) upsertPayment(p, false);
      loaded += ps.length;
      const first = num(r.first_index_offset);
      if (ps.length < LIST_PAGE || loaded >= MAX_KEPT || first <= 1) break;
      offset = first;
    }
  }

  let trackWS = null;
  function trackPayments() {
    trackWS = stream('/v2/router/payments', {
      onMessage: (m) => {
        if (m.result) {
          metrics.messages++;
          upsertPayment(m.result, true);
          if (m.result.status !== 'INITIATED') refreshNetworkSoon();
        } else if (m.error) setConn('TrackPayments: ' + m.error.message, 'down');
      },
      onClose: () => { setConn('payment stream closed; reconnecting', 'down'); setTimeout(() => reconnectPayments(), 1000); },
    });
    trackWS.onopen = () => setConn('live', 'live');
  }
  /** After a dropped stream: re-read ListPayments (a browser WebSocket cannot carry the
   *  paytrack-replay-since metadata), then subscribe again. */
  async function reconnectPayments() {
    try { await loadPayments(); } catch (e) { /* shown by the next attempt */ }
    trackPayments();
  }

  function filterView() {
    const text = $('filter-text').value.trim().toLowerCase();
    const status = $('filter-status').value;
    if (!text && !status) return null;
    const out = [];
    for (let i = state.order.length - 1; i >= 0; i--) {
      const h = state.order[i], p = state.payments.get(h);
      if (status && p.status !== status) continue;
      if (text && !(h.includes(text) || (p.payment_request || '').toLowerCase().includes(text) ||
                    p.dest.includes(text) || aliasOf(p.dest).toLowerCase().includes(text))) continue;
      out.push(h);
    }
    return out;
  }
  function viewLength() { return state.view ? state.view.length : state.order.length; }
  function viewAt(i) { return state.view ? state.view[i] : state.order[state.order.length - 1 - i]; }
  function destinationOf(p) {
    for (const h of p.htlcs || []) { const hops = (h.route && h.route.hops) || []; if (hops.length) return hops[hops.length - 1].pub_key || ''; }
    return '';
  }
  function aliasOf(pub) { const n = state.nodes.get(pub); return n ? n.alias : ''; }

  // The virtual table: a pool of row elements placed over a spacer as tall as every row.
  const pool = [];
  function renderTable() {
    const rows = $('rows');
    if (state.view === null) state.view = filterView();
    const n = viewLength();
    $('rows-spacer').style.height = (n * ROW_H) + 'px';
    const count = $('pay-count');
    const total = state.order.length;
    count.textContent = n === total ? `${total.toLocaleString('en-US')} payment${total === 1 ? '' : 's'}` : `${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`;
    const first = Math.max(0, Math.floor(rows.scrollTop / ROW_H) - 2);
    const visible = Math.ceil(rows.clientHeight / ROW_H) + 4;
    while (pool.length < visible) {
      const r = el('div', 'row');
      r.setAttribute('role', 'row');
      for (let i = 0; i < 6; i++) r.appendChild(el('span', i >= 2 && i <= 4 ? 'num' : '')).setAttribute('role', 'gridcell');
      r.children[1].className = 'st';
      r.children[5].className = 'mono';
      r.addEventListener('click', () => { if (r.dataset.hash) selectPayment(r.dataset.hash); });
      rows.appendChild(r);
      pool.push(r);
    }
    for (let k = 0; k < pool.length; k++) {
      const r = pool[k], i = first + k;
      if (k >= visible || i >= n) { if (!r.hidden) { r.hidden = true; r.dataset.hash = ''; } continue; }
      const h = viewAt(i), p = state.payments.get(h);
      r.hidden = false;
      const top = (i * ROW_H) + 'px';
      if (r.style.top !== top) r.style.top = top;
      if (r.dataset.hash !== h) r.dataset.hash = h;
      if (r.dataset.status !== p.status) r.dataset.status = p.status;
      setText(r.children[0], fmtTime(nsToMs(p.creation_time_ns)));
      setText(r.children[1], p.status);
      const cls = 'st ' + p.status;
      if (r.children[1].className !== cls) r.children[1].className = cls;
      setText(r.children[2], fmtSat(sat(p.value_msat)));
      setText(r.children[3], fmtSat(sat(p.fee_msat)));
      setText(r.children[4], p.attempts);
      const dest = aliasOf(p.dest);
      setText(r.children[5], (dest ? dest + ' · ' : '') + h);
      r.classList.toggle('sel', h === state.selected);
      r.setAttribute('aria-selected', h === state.selected ? 'true' : 'false');
    }
  }
  function setText(e, v) { const s = String(v); if (e.textContent !== s) e.textContent = s; }

  function moveSelection(delta) {
    const n = viewLength();
    if (!n) return;
    let i = 0;
    if (state.selected) for (let k = 0; k < n; k++) if (viewAt(k) === state.selected) { i = k + delta; break; }
    i = Math.max(0, Math.min(n - 1, i));
    selectPayment(viewAt(i));
    const rows = $('rows');
    if (i * ROW_H < rows.scrollTop) rows.scrollTop = i * ROW_H;
    else if ((i + 1) * ROW_H > rows.scrollTop + rows.clientHeight) rows.scrollTop = (i + 1) * ROW_H - rows.clientHeight;
  }

  function selectPayment(h) {
    const before = state.selected, was = before && state.payments.get(before);
    if (was && terminal(was) && before !== h) state.full.delete(before);
    state.selected = h;
    schedule('table'); schedule('detail'); schedule('routes');
    if (h && !state.full.has(h)) loadFull(h);
  }

  /** The full snapshot of a finished payment: TrackPaymentV2 answers it and ends (REST, NDJSON). */
  async function loadFull(h) {
    try {
      const headers = macaroon ? { 'Grpc-Metadata-macaroon': macaroon } : {};
      const r = await fetch('/v2/router/track/' + b64url(hexToBytes(h)), { headers, cache: 'no-store', credentials: 'omit' });
      const lines = (await r.text()).split('\n').filter((l) => l.trim());
      let last = null;
      for (const l of lines) { const m = JSON.parse(l); if (m.result) last = m.result; else if (m.error) throw new Error(m.error.message); }
      if (last && state.selected === h) {
        const cur = state.payments.get(h);
        if (!cur || !stale(cur, last) || !state.full.has(h)) state.full.set(h, last);
        schedule('detail'); schedule('routes');
      }
    } catch (e) {
      if (state.selected === h) { $('detail').replaceChildren(el('p', 'error', 'TrackPaymentV2: ' + e.message)); }
    }
  }

  // ---- one payment's detail ---------------------------------------------------------------------
  function routeNodes(h) {
    const self = state.info ? state.info.identity_pubkey : '';
    return [self].concat(((h.route && h.route.hops) || []).map((x) => x.pub_key));
  }
  /** Where an attempt failed: the node at failure_source_index of [sender, hops...] and the channel it could not use. */
  function failureOf(h) {
    const f = h.failure;
    if (!f || h.status !== 'FAILED') return null;
    const i = num(f.failure_source_index);
    const nodes = routeNodes(h);
    const hops = (h.route && h.route.hops) || [];
    return { index: i, node: nodes[i] || '', code: f.code || 'UNKNOWN', chan: hops[i] ? hops[i].chan_id : null,
             final: i === hops.length };
  }

  function renderDetail() {
    const box = $('detail');
    const p = state.selected && state.full.get(state.selected);
    $('detail-hash').textContent = state.selected || '';
    box.replaceChildren();
    if (!p) {
      box.appendChild(el('p', 'note', state.selected ? 'Loading…' : 'Select a payment to see its attempts, routes and failures.'));
      return;
    }
    const summary = el('p');
    summary.append(el('span', 'st ' + p.status, p.status), ` ${fmtSat(sat(p.value_msat))} sat, fee ${fmtSat(sat(p.fee_msat))} sat, ` +
      `${(p.htlcs || []).length} attempt(s), created ${fmtTime(nsToMs(p.creation_time_ns))}`);
    if (p.failure_reason && p.failure_reason !== 'FAILURE_REASON_NONE') summary.append(el('span', 'failure', ' — ' + p.failure_reason));
    box.appendChild(summary);
    if (p.payment_request) box.appendChild(el('p', 'mono decoded', p.payment_request));

    // Timeline of attempts, relative to the payment's creation.
    const htlcs = p.htlcs || [];
    const t0 = nsToMs(p.creation_time_ns);
    let t1 = t0 + 1;
    for (const h of htlcs) t1 = Math.max(t1, nsToMs(h.resolve_time_ns) || nowMs(), nsToMs(h.attempt_time_ns));
    const tl = el('div', 'timeline');
    tl.setAttribute('aria-label', 'timeline of attempts');
    htlcs.forEach((h, k) => {
      const row = el('div', 'tl');
      const a = nsToMs(h.attempt_time_ns), r = nsToMs(h.resolve_time_ns) || nowMs();
      row.appendChild(el('span', '', `#${k + 1} ${(r - a).toFixed(0)} ms`));
      const track = el('div', 'tl-track');
      const bar = el('div', 'tl-bar ' + h.status);
      bar.style.left = (100 * (a - t0) / (t1 - t0)).toFixed(2) + '%';
      bar.style.width = (100 * (r - a) / (t1 - t0)).toFixed(2) + '%';
      bar.title = `${h.status} ${fmtTime(a)} → ${h.resolve_time_ns && h.resolve_time_ns !== '0' ? fmtTime(r) : '…'}`;
      track.appendChild(bar);
      row.appendChild(track);
      tl.appendChild(row);
    });
    if (htlcs.length) box.appendChild(tl);

    htlcs.forEach((h, k) => {
      const card = el('div', 'attempt');
      card.dataset.attempt = String(k);
      card.dataset.status = h.status;
      const route = h.route || {};
      const head = el('h4');
      head.append(`Attempt #${k + 1} (id ${h.attempt_id}) `, el('span', 'st ' + h.status, h.status),
        ` · ${fmtSat(sat(route.total_amt_msat))} sat, fees ${fmtSat(sat(route.total_fees_msat))} sat, time lock ${route.total_time_lock || 0}` +
        ` · sent ${fmtTime(nsToMs(h.attempt_time_ns))}` + (num(h.resolve_time_ns) ? `, resolved ${fmtTime(nsToMs(h.resolve_time_ns))}` : ''));
      card.appendChild(head);
      const f = failureOf(h);
      if (f) {
        const who = aliasOf(f.node) || f.node.slice(0, 16);
        const where = f.index === 0 ? 'at the sender' : f.final ? 'at the final hop' : `at hop ${f.index}`;
        const line = el('p', 'failure fail-hop', `Failed ${where}: ${who} returned ${f.code}` +
          (f.chan ? ` (could not forward over channel ${f.chan})` : ''));
        line.dataset.hop = String(f.index);
        line.dataset.node = who;
        line.dataset.code = f.code;
        card.appendChild(line);
      }
      const t = el('table');
      const thead = el('tr');
      for (const c of ['hop', 'node', 'channel', 'amount to forward (sat)', 'fee (sat)', 'expiry']) {
        const th = el('th', /sat|expiry/.test(c) ? 'num' : '', c); th.scope = 'col'; thead.appendChild(th);
      }
      t.appendChild(thead);
      ((route.hops) || []).forEach((hop, i) => {
        const tr = el('tr');
        if (f && f.index === i + 1) tr.className = 'failure';
        tr.append(el('td', '', i + 1), el('td', '', aliasOf(hop.pub_key) || hop.pub_key), el('td', 'mono', hop.chan_id),
          el('td', 'num', fmtSat(sat(hop.amt_to_forward_msat))), el('td', 'num', fmtSat(sat(hop.fee_msat))), el('td', 'num', hop.expiry));
        t.appendChild(tr);
      });
      card.appendChild(t);
      box.appendChild(card);
    });
  }

  // ---- the network graph ---------------------------------------------------------------------
  let layout = new Map();       // pubkey -> {x, y}
  let graphBuilt = '';           // key of the node/channel set the SVG was built for
  const chanEls = new Map();     // chan id -> {g, l1, l2, t1, t2, b1, b2}

  function normalizeNetwork(r) {
    state.nodes = new Map((r.nodes || []).map((n) => [n.pub_key, { alias: n.alias, served: !!n.served, online: n.online !== false }]));
    state.channels = (r.channels || []).map((c) => ({
      id: c.chan_id, n1: c.node1_pub, n2: c.node2_pub, cap: num(c.capacity),
      b1: sat(c.node1_balance_msat), b2: sat(c.node2_balance_msat), l1: sat(c.node1_locked_msat), l2: sat(c.node2_locked_msat),
      priv: !!c.private, known: true,
    }));
  }
  /** LND's own view (DescribeGraph + ListChannels) when the PayTrack extension is absent: other channels' balances are unknown. */
  async function graphFromLND() {
    const g = await api('/v1/graph?include_unannounced=true');
    state.nodes = new Map((g.nodes || []).map((n) => [n.pub_key, { alias: n.alias, served: false, online: true }]));
    const own = new Map();
    try { for (const c of (await api('/v1/channels')).channels || []) own.set(c.chan_id, c); } catch (e) { if (!(e instanceof APIError)) throw e; }
    const self = state.info.identity_pubkey;
    if (state.nodes.has(self)) state.nodes.get(self).served = true;
    state.channels = (g.edges || []).map((e) => {
      const c = own.get(e.channel_id), cap = num(e.capacity);
      let b1 = cap / 2, b2 = cap / 2, known = false;
      if (c) { known = true; const mine = num(c.local_balance), theirs = num(c.remote_balance);
        if (e.node1_pub === self) { b1 = mine; b2 = theirs; } else { b1 = theirs; b2 = mine; } }
      return { id: e.channel_id, n1: e.node1_pub, n2: e.node2_pub, cap, b1, b2, l1: 0, l2: 0, priv: false, known };
    });
  }

  let netTimer = null, netLast = 0, netBusy = false;
  function refreshNetworkSoon() {
    if (netTimer) return;
    const wait = Math.max(0, netLast + NET_REFRESH_MS - Date.now());
    netTimer = setTimeout(() => { netTimer = null; refreshNetwork(); }, wait);
  }
  async function refreshNetwork() {
    if (netBusy) { refreshNetworkSoon(); return; }
    netBusy = true; netLast = Date.now();
    try {
      if (state.networkSource !== 'graph') {
        try {
          normalizeNetwork(await api('/v1/paytrack/network?include_unannounced=true'));
          state.networkSource = 'paytrack';
          $('graph-note').textContent = '';
        } catch (e) {
          if (!(e instanceof APIError) || !e.unserved) throw e;
          state.networkSource = 'graph';
        }
      }
      if (state.networkSource === 'graph') {
        try {
          await graphFromLND();
          $('graph-note').textContent = 'PayTrack network extension not served: balances shown for this node\'s channels only.';
        } catch (e) {
          if (!(e instanceof APIError)) throw e;
          $('graph-note').textContent = `The network is not available from this daemon (${e.message}).`;
        }
      }
      fillKeysendDestinations();
      schedule('graph');
    } catch (e) {
      $('graph-note').textContent = 'network: ' + e.message;
    } finally { netBusy = false; }
  }

  /**
   * Node positions, left to right by hops from this node (payments flow rightwards): layer k
   * holds the nodes k channels away (unreachable ones last); within a layer nodes sit at the
   * mean height of their neighbours in the layer before (barycenter ordering), fitted to W x H.
   */
  function computeLayout(W, H) {
    const self = state.info ? state.info.identity_pubkey : '';
    const adj = new Map(Array.from(state.nodes.keys(), (id) => [id, []]));
    for (const c of state.channels) {
      if (adj.has(c.n1) && adj.has(c.n2)) { adj.get(c.n1).push(c.n2); adj.get(c.n2).push(c.n1); }
    }
    const depth = new Map();
    const start = adj.has(self) ? self : adj.keys().next().value;
    if (start !== undefined) {
      depth.set(start, 0);
      const queue = [start];
      while (queue.length) {
        const id = queue.shift();
        for (const m of adj.get(id)) if (!depth.has(m)) { depth.set(m, depth.get(id) + 1); queue.push(m); }
      }
    }
    let maxDepth = Math.max(0, ...depth.values());
    const layers = [];
    const unreached = Array.from(adj.keys()).filter((id) => !depth.has(id));
    if (unreached.length) maxDepth += 1;
    for (const id of adj.keys()) {
      const d = depth.has(id) ? depth.get(id) : maxDepth;
      (layers[d] = layers[d] || []).push(id);
    }
    const rank = new Map();
    layers.forEach((layer, d) => {
      const bary = (id) => {
        const prev = adj.get(id).filter((m) => rank.has(m) && depth.get(m) === d - 1).map((m) => rank.get(m));
        return prev.length ? prev.reduce((a, b) => a + b, 0) / prev.length : 0.5;
      };
      layer.sort((a, b) => (bary(a) - bary(b)) || aliasOf(a).localeCompare(aliasOf(b)));
      layer.forEach((id, i) => rank.set(id, (i + 0.5) / layer.length));
    });
    const mx = 50, my = 30;
    layout = new Map();
    layers.forEach((layer, d) => layer.forEach((id, i) => {
      // Alternate layers are nudged vertically so long channels do not run through nodes.
      const nudge = (d % 2 ? 0.5 : -0.5) / layer.length * 0.3;
      // In a tall layer, nodes zig-zag left and right so channels between them stay visible.
      const zig = layer.length > 2 && layers.length > 1 ? (i % 2 ? 0.22 : -0.22) * (W - 2 * mx) / (layers.length - 1) : 0;
      layout.set(id, {
        x: mx + (W - 2 * mx) * (layers.length > 1 ? d / (layers.length - 1) : 0.5) + zig,
        y: my + (H - 2 * my - 20) * Math.min(1, Math.max(0, rank.get(id) + nudge)),
      });
    }));
  }

  function renderGraph() {
    const g = $('graph');
    const W = Math.max(320, Math.round(g.clientWidth || 1000)), H = Math.max(240, Math.round(g.clientHeight || 600));
    const key = Array.from(state.nodes.keys()).join() + '|' + state.channels.map((c) => c.id).join() + '|' + W + 'x' + H;
    if (key !== graphBuilt) {
      graphBuilt = key;
      g.setAttribute('viewBox', `0 0 ${W} ${H}`);
      computeLayout(W, H);
      g.replaceChildren();
      chanEls.clear();
      const chans = svg('g', { class: 'chans' }), routes = svg('g', { class: 'routes', id: 'routes' }), nodes = svg('g', { class: 'nodes' });
      const maxCap = Math.max(1, ...state.channels.map((c) => c.cap));
      for (const c of state.channels) {
        const a = layout.get(c.n1), b = layout.get(c.n2);
        if (!a || !b) continue;
        const w = 2 + 6 * Math.sqrt(c.cap / maxCap);
        const grp = svg('g', { class: 'chan' + (c.priv ? ' private' : ''), 'data-chan': c.id, 'data-n1': aliasOf(c.n1), 'data-n2': aliasOf(c.n2) });
        const title = svg('title', {});
        const l1 = svg('line', { class: 'ch1', 'stroke-width': w }), l2 = svg('line', { class: 'ch2', 'stroke-width': w });
        const mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
        const cap = svg('text', { class: 'cap', x: mx, y: my - 6, 'text-anchor': 'middle' }, short(c.cap));
        const t1 = svg('text', { class: 'bal b1', x: a.x + (b.x - a.x) * 0.3, y: a.y + (b.y - a.y) * 0.3 - 5, 'text-anchor': 'middle' });
        const t2 = svg('text', { class: 'bal b2', x: a.x + (b.x - a.x) * 0.7, y: a.y + (b.y - a.y) * 0.7 - 5, 'text-anchor': 'middle' });
        grp.append(title, l1, l2, cap, t1, t2);
        chans.appendChild(grp);
        chanEls.set(c.id, { grp, title, l1, l2, t1, t2, a, b, last: '' });
      }
      const self = state.info ? state.info.identity_pubkey : '';
      for (const [id, n] of state.nodes) {
        const p = layout.get(id);
        const grp = svg('g', { class: 'node' + (n.served ? ' served' : '') + (id === self ? ' self' : '') + (n.online ? '' : ' offline'),
                               'data-node': n.alias, 'data-pub': id });
        grp.append(svg('title', {}, `${n.alias} ${id}${n.served ? ' (served)' : ''}`), svg('circle', { cx: p.x, cy: p.y, r: 22 }),
                   svg('text', { x: p.x, y: p.y + 38 }, n.alias));
        nodes.appendChild(grp);
      }
      g.append(chans, routes, nodes);
      dirty.routes = true;
    }
    for (const c of state.channels) {
      const e = chanEls.get(c.id);
      if (!e) continue;
      const stamp = `${c.b1}/${c.b2}/${c.l1}/${c.l2}`;
      if (stamp === e.last) continue;
      const changed = e.last !== '';
      e.last = stamp;
      const f = c.cap > 0 ? Math.min(1, Math.max(0, c.b1 / c.cap)) : 0.5;
      const sx = e.a.x + (e.b.x - e.a.x) * f, sy = e.a.y + (e.b.y - e.a.y) * f;
      for (const [l, x1, y1, x2, y2] of [[e.l1, e.a.x, e.a.y, sx, sy], [e.l2, sx, sy, e.b.x, e.b.y]]) {
        l.setAttribute('x1', x1); l.setAttribute('y1', y1); l.setAttribute('x2', x2); l.setAttribute('y2', y2);
      }
      e.t1.textContent = c.known ? short(c.b1) : '?';
      e.t2.textContent = c.known ? short(c.b2) : '?';
      e.grp.dataset.b1 = String(c.b1); e.grp.dataset.b2 = String(c.b2);
      e.title.textContent = `channel ${c.id}: capacity ${fmtSat(c.cap)} sat; ${aliasOf(c.n1)} ${c.known ? fmtSat(c.b1) : '?'} sat` +
        (c.l1 ? ` (${fmtSat(c.l1)} in flight)` : '') + ` | ${aliasOf(c.n2)} ${c.known ? fmtSat(c.b2) : '?'} sat` + (c.l2 ? ` (${fmtSat(c.l2)} in flight)` : '');
      if (changed) { e.grp.classList.remove('flash'); void e.grp.getBoundingClientRect(); e.grp.classList.add('flash'); }
    }
  }

  function renderRoutes() {
    const layer = $('routes');
    if (!layer) return;
    layer.replaceChildren();
    const p = state.selected && state.full.get(state.selected);
    if (!p) return;
    (p.htlcs || []).forEach((h, k) => {
      const nodes = routeNodes(h);
      const pts = nodes.map((id) => layout.get(id)).filter(Boolean);
      if (pts.length < 2) return;
      const off = (k % 5) * 4 - 8;
      const line = svg('polyline', { class: 'route ' + h.status, points: pts.map((q) => `${q.x + off},${q.y + off}`).join(' '),
                                     'data-attempt': k, 'data-path': nodes.map(aliasOf).join('>') });
      line.appendChild(svg('title', {}, `attempt #${k + 1} ${h.status}: ${nodes.map((x) => aliasOf(x) || x.slice(0, 8)).join(' → ')}`));
      layer.appendChild(line);
      const f = failureOf(h);
      if (f && layout.get(f.node)) {
        const q = layout.get(f.node);
        const mark = svg('g', { class: 'fail', 'data-node': aliasOf(f.node), 'data-code': f.code });
        mark.append(svg('circle', { class: 'failmark', cx: q.x, cy: q.y, r: 30 }), svg('text', { class: 'failtext', x: q.x, y: q.y - 36 }, f.code));
        layer.appendChild(mark);
      }
    });
  }

  function render() {
    const t = dirty;
    dirty = { table: false, detail: false, graph: false, routes: false };
    if (t.graph) renderGraph();
    if (t.routes || t.graph) renderRoutes();
    if (t.table) renderTable();
    if (t.detail) renderDetail();
    metrics.renders++;
    if (metrics.pending.length) {
      const now = nowMs();
      for (const u of metrics.pending) metrics.record(now - u);
      metrics.pending.length = 0;
    }
  }

  // ---- invoices -------------------------------------------------------------------------------
  function upsertInvoice(inv) {
    if (!inv.r_hash) return;
    state.invoices.set(inv.r_hash, Object.assign(state.invoices.get(inv.r_hash) || {}, inv));
    while (state.invoices.size > 200) state.invoices.delete(state.invoices.keys().next().value);
    renderInvoices();
  }
  function renderInvoices() {
    const list = $('inv-list');
    list.replaceChildren();
    const items = Array.from(state.invoices.values()).sort((a, b) => num(b.add_index) - num(a.add_index)).slice(0, 50);
    for (const inv of items) {
      const li = el('li');
      li.dataset.rhash = inv.r_hash;
      li.append(el('span', 'st ' + (inv.state === 'SETTLED' ? 'SUCCEEDED' : inv.state === 'CANCELED' ? 'FAILED' : 'IN_FLIGHT'), inv.state || ''),
                el('span', 'num', fmtSat(num(inv.value)) + ' sat'), el('span', 'memo', (inv.node ? '[' + inv.node + '] ' : '') + (inv.memo || '')));
      if (state.holds.has(inv.r_hash) && (inv.state === 'OPEN' || inv.state === 'ACCEPTED')) {
        const settle = el('button', '', 'Settle'), cancel = el('button', 'danger', 'Cancel');
        settle.type = cancel.type = 'button';
        settle.disabled = inv.state !== 'ACCEPTED';
        settle.addEventListener('click', () => holdAction('settle', inv.r_hash));
        cancel.addEventListener('click', () => holdAction('cancel', inv.r_hash));
        li.append(settle, cancel);
      }
      list.appendChild(li);
    }
  }
  function subscribeInvoices() {
    stream('/v1/invoices/subscribe', {
      onMessage: (m) => { if (m.result) upsertInvoice(m.result); else if (m.error) $('inv-note').textContent = m.error.message; },
      onClose: () => setTimeout(subscribeInvoices, 2000),
    });
  }
  async function loadInvoices() {
    try {
      const r = await api('/v1/invoices?reversed=true&num_max_invoices=50');
      for (const inv of r.invoices || []) upsertInvoice(inv);
    } catch (e) { $('inv-note').textContent = 'invoices: ' + e.message; }
  }
  function watchHold(rhash, node) {
    const path = '/v2/invoices/subscribe/' + b64url(b64ToBytes(rhash));
    stream(path, {
      node,
      onMessage: (m) => {
        if (m.result) upsertInvoice(node ? Object.assign(m.result, { node: node.alias }) : m.result);
        else if (m.error) $('inv-note').textContent = `SubscribeSingleInvoice: ${m.error.message}` +
          (m.error.code === 12 ? ' (this daemon has no hold invoices yet: refresh by hand)' : '');
      },
    });
  }
  async function holdAction(kind, rhash) {
    const st = $('inv-status');
    try {
      const node = state.holds.get(rhash).node;
      if (kind === 'settle') await api('/v2/invoices/settle', { method: 'POST', node, body: { preimage: b64(state.holds.get(rhash).preimage) } });
      else await api('/v2/invoices/cancel', { method: 'POST', node, body: { payment_hash: rhash } });
      st.textContent = kind === 'settle' ? 'settled' : 'canceled'; st.className = 'status ok';
      state.holds.delete(rhash);
      const inv = state.invoices.get(rhash);
      if (inv) { inv.state = kind === 'settle' ? 'SETTLED' : 'CANCELED'; renderInvoices(); }
    } catch (e) { showError(st, e, kind === 'settle' ? 'SettleInvoice' : 'CancelInvoice'); }
  }
  function showError(target, e, what) {
    target.className = 'status err';
    target.textContent = (e instanceof APIError && e.http === 501)
      ? `${what} is not served by this daemon (${e.message}).` : `${what}: ${e.message}`;
  }

  // ---- other served nodes (invoices there) ------------------------------------------------------
  async function loadPeers() {
    try {
      const r = await fetch('/dashboard-peers.json', { cache: 'no-store', credentials: 'omit' });
      state.peers = r.ok ? (await r.json()).map((p) => ({ alias: String(p.alias), url: String(p.url), macaroon: '' })) : [];
    } catch (_) { state.peers = []; }
    const sel = $('inv-node');
    sel.replaceChildren(el('option', '', 'this node' + (state.info ? ' (' + state.info.alias + ')' : '')));
    sel.firstChild.value = '';
    for (const p of state.peers) { const o = el('option', '', p.alias + ' (' + p.url + ')'); o.value = p.alias; sel.appendChild(o); }
    sel.addEventListener('change', () => {
      const remote = sel.value !== '';
      $('inv-node-mac').hidden = $('inv-node-mac-label').hidden = !remote;
      const p = state.peers.find((x) => x.alias === sel.value);
      $('inv-node-mac').value = p ? p.macaroon : '';
    });
    $('inv-node-mac').addEventListener('input', () => {
      const p = state.peers.find((x) => x.alias === $('inv-node').value);
      if (p) p.macaroon = $('inv-node-mac').value.trim().toLowerCase();
    });
  }
  /** The node the invoice form targets: null for this page's node. */
  function selectedInvoiceNode() {
    return state.peers.find((x) => x.alias === $('inv-node').value) || null;
  }

  // ---- forms -----------------------------------------------------------------------------------
  function fillKeysendDestinations() {
    const sel = $('ks-dest');
    const self = state.info ? state.info.identity_pubkey : '';
    const want = Array.from(state.nodes).filter(([id]) => id !== self).map(([id, n]) => id + '|' + n.alias).join();
    if (sel.dataset.key === want) return;
    sel.dataset.key = want;
    const current = sel.value;
    sel.replaceChildren();
    for (const [id, n] of state.nodes) {
      if (id === self) continue;
      const o = el('option', '', `${n.alias} (${id.slice(0, 12)}…)`); o.value = id; sel.appendChild(o);
    }
    if (current) sel.value = current;
  }

  function sendPayment(body, statusEl) {
    statusEl.className = 'status'; statusEl.textContent = 'sending…';
    let first = true;
    stream('/v2/router/send', {
      method: 'POST', body,
      onMessage: (m) => {
        if (m.error) { showError(statusEl, new APIError(0, m.error.code, m.error.message), 'SendPaymentV2'); return; }
        const p = m.result;
        if (!p) return;
        upsertPayment(p, false);
        if (first) { first = false; selectPayment(p.payment_hash); }
        statusEl.className = 'status ' + (p.status === 'SUCCEEDED' ? 'ok' : p.status === 'FAILED' ? 'err' : '');
        statusEl.textContent = p.status + (p.failure_reason && p.failure_reason !== 'FAILURE_REASON_NONE' ? ' ' + p.failure_reason : '') +
          ` · ${(p.htlcs || []).length} attempt(s)`;
      },
    });
  }

  let decodeTimer = null;
  function decodeSoon() {
    clearTimeout(decodeTimer);
    decodeTimer = setTimeout(async () => {
      const req = $('pay-req').value.trim(), out = $('pay-decoded');
      out.replaceChildren();
      if (!req) return;
      try {
        const d = await api('/v1/payreq/' + encodeURIComponent(req));
        out.append(el('span', '', `${fmtSat(num(d.num_satoshis))} sat to ${aliasOf(d.destination) || d.destination}, memo: `),
                   el('span', 'memo', d.description || ''), el('span', '', ` · expires in ${d.expiry}s`));
      } catch (e) { out.appendChild(el('span', 'error', e.message)); }
    }, 250);
  }

  function wireForms() {
    $('pay-req').addEventListener('input', decodeSoon);
    $('pay-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const req = $('pay-req').value.trim();
      if (!req) return;
      sendPayment({ payment_request: req, timeout_seconds: 60, fee_limit_sat: String(num($('pay-fee').value)) }, $('pay-status'));
    });
    $('keysend-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const dest = $('ks-dest').value, st = $('ks-status');
      if (!dest) return;
      const preimage = randomBytes(32), hash = await sha256(preimage);
      sendPayment({ dest: b64(hexToBytes(dest)), amt: String(num($('ks-amt').value)), payment_hash: b64(hash),
                    dest_custom_records: { [KEYSEND_TYPE]: b64(preimage) }, timeout_seconds: 60,
                    fee_limit_sat: String(num($('pay-fee').value)) }, st);
    });
    $('inv-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const st = $('inv-status'), out = $('inv-out');
      st.className = 'status'; st.textContent = ''; out.value = '';
      const value = String(num($('inv-amt').value)), memo = $('inv-memo').value;
      const node = selectedInvoiceNode();
      try {
        let r, rhash;
        if ($('inv-hold').checked) {
          const preimage = randomBytes(32), hash = await sha256(preimage);
          r = await api('/v2/invoices/hodl', { method: 'POST', node, body: { memo, value, hash: b64(hash) } });
          rhash = b64(hash);
          state.holds.set(rhash, { preimage, node });
          upsertInvoice({ r_hash: rhash, memo, value, state: 'OPEN', payment_request: r.payment_request, add_index: r.add_index,
                          node: node ? node.alias : undefined });
          watchHold(rhash, node);
        } else {
          r = await api('/v1/invoices', { method: 'POST', node, body: { memo, value } });
          rhash = r.r_hash;
          // This node's invoice subscription shows its own; another node's is listed here.
          if (node) upsertInvoice({ r_hash: rhash, memo, value, state: 'OPEN', payment_request: r.payment_request,
                                    add_index: r.add_index, node: node.alias });
        }
        out.value = r.payment_request;
        st.className = 'status ok'; st.textContent = 'created ' + bytesToHex(b64ToBytes(rhash));
      } catch (e) { showError(st, e, $('inv-hold').checked ? 'AddHoldInvoice' : 'AddInvoice'); }
    });
    $('filter-text').addEventListener('input', () => { state.view = null; $('rows').scrollTop = 0; schedule('table'); });
    $('filter-status').addEventListener('change', () => { state.view = null; $('rows').scrollTop = 0; schedule('table'); });
    const rows = $('rows');
    rows.addEventListener('scroll', () => schedule('table'), { passive: true });
    rows.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowDown') { ev.preventDefault(); moveSelection(1); }
      else if (ev.key === 'ArrowUp') { ev.preventDefault(); moveSelection(-1); }
      else if (ev.key === 'Enter' && !state.selected) { ev.preventDefault(); moveSelection(0); }
    });
    window.addEventListener('resize', () => { schedule('table'); schedule('graph'); });
  }

  // ---- start ------------------------------------------------------------------------------------
  async function start() {
    $('auth').hidden = true;
    $('app').hidden = false;
    setConn('connecting…');
    $('node-name').textContent = `${state.info.alias} · ${state.info.identity_pubkey.slice(0, 16)}…`;
    document.title = `PayTrack · ${state.info.alias}`;
    wireForms();
    await loadPeers();
    await refreshNetwork();
    try { await loadPayments(); } catch (e) { setConn('ListPayments: ' + e.message, 'down'); }
    schedule('table');
    trackPayments();
    loadInvoices();
    subscribeInvoices();
  }

  async function tryConnect(mac) {
    macaroon = mac;
    try {
      state.info = await api('/v1/getinfo');
      return true;
    } catch (e) {
      macaroon = null;
      throw e;
    }
  }

  async function boot() {
    // --no-macaroons: GetInfo answers without one, so none is asked.
    try { await tryConnect(null); await start(); return; } catch (_) { /* a macaroon is needed */ }
    $('auth').hidden = false;
    $('mac-hex').focus();
    $('mac-file').addEventListener('change', async () => {
      const f = $('mac-file').files[0];
      if (f) $('mac-hex').value = bytesToHex(new Uint8Array(await f.arrayBuffer()));
      $('mac-file').value = '';
    });
    $('auth-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const hex = $('mac-hex').value.replace(/\s+/g, '');
      $('auth-error').textContent = '';
      if (!/^([0-9a-fA-F]{2})+$/.test(hex)) { $('auth-error').textContent = 'A macaroon is hex: pairs of 0-9 a-f.'; return; }
      try {
        await tryConnect(hex.toLowerCase());
        $('mac-hex').value = '';
        await start();
      } catch (e) { $('auth-error').textContent = 'GetInfo: ' + e.message; }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot); else boot();
})();
