"""Drives the dashboard page (served by paytrackd at / on its REST listener) in headless Chromium
over the DevTools protocol: used by test_dashboard.py and Benchmarks/dashboard/run.

Everything is done as a user would: the macaroon is typed into the page's form, invoices pasted
into the pay form, buttons clicked. `Page.statuses()` reads what a MutationObserver installed in
the page saw: every (payment hash, status) the table displayed, in order."""
import json
import time

from browser import Browser

OBSERVER = """
(() => {
  if (window.__seen) return true;
  window.__seen = [];                 // (hash, status) each time a row shows a new status for a hash
  const last = new Map();
  const note = (r) => {
    const h = r.dataset && r.dataset.hash, st = r.dataset && r.dataset.status;
    if (h && st && last.get(h) !== st) { last.set(h, st); window.__seen.push([h, st]); }
  };
  new MutationObserver((ms) => {
    for (const m of ms) {
      const r = m.target.nodeType === 1 ? m.target.closest('.row') : m.target.parentElement && m.target.parentElement.closest('.row');
      if (r) note(r);
    }
  }).observe(document.getElementById('rows'), { subtree: true, attributes: true, attributeFilter: ['data-status', 'data-hash'] });
  return true;
})()
"""


class Page:
    def __init__(self, profile_dir, url, shots_dir=None, width=1280, height=800):
        self.browser = Browser(profile_dir, width=width, height=height)
        self.url = url
        self.shots = shots_dir
        self.step = 0
        if shots_dir:
            shots_dir.mkdir(parents=True, exist_ok=True)

    def js(self, expr):
        return self.browser.eval(expr)

    def wait(self, expr, timeout=30):
        return self.browser.wait_for(expr, timeout=timeout)

    def shot(self, name):
        """A screenshot kept as a test artifact (not committed)."""
        if self.shots:
            self.step += 1
            self.browser.screenshot(str(self.shots / f"{self.step:02d}-{name}.png"))

    def emulate_screen(self, width, height, mobile=True):
        """A phone-sized viewport (headless Chromium's window is at least 500 px wide)."""
        self.browser.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                          deviceScaleFactor=1, mobile=mobile)

    def open(self):
        self.browser.open(self.url)
        self.wait("document.readyState === 'complete' && !!document.getElementById('auth')")

    def login(self, macaroon_hex, observe=True):
        """Types the macaroon into the form (as pasted text) and submits; waits for the live page."""
        self.wait("!document.getElementById('auth').hidden")
        self.shot("macaroon-form")
        self.js(f"""(() => {{ const t = document.getElementById('mac-hex'); t.value = {json.dumps(macaroon_hex)};
                 document.getElementById('mac-connect').click(); return true; }})()""")
        self.wait_live(observe)

    def wait_live(self, observe=True):
        """Waits for the live page; `observe` installs the status recorder (tests; the benchmark
        measures the page alone)."""
        self.wait("!document.getElementById('app').hidden && document.getElementById('conn').textContent === 'live'")
        self.wait("document.querySelectorAll('#graph .node').length > 0")
        if observe:
            self.js(OBSERVER)

    def pick_file(self, selector, path):
        """Chooses `path` in a file input, as the file picker would (CDP DOM.setFileInputFiles)."""
        root = self.browser.call("DOM.getDocument")["root"]["nodeId"]
        node = self.browser.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.browser.call("DOM.setFileInputFiles", files=[str(path)], nodeId=node)

    def set_value(self, id_, value, event="input"):
        self.js(f"""(() => {{ const e = document.getElementById({json.dumps(id_)}); e.value = {json.dumps(value)};
                 e.dispatchEvent(new Event({json.dumps(event)}, {{bubbles: true}})); return true; }})()""")

    def click(self, id_):
        self.js(f"document.getElementById({json.dumps(id_)}).click(), true")

    def text(self, selector):
        return self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); return e ? e.textContent : null; }})()")

    def statuses(self, payment_hash):
        """The statuses the table showed for one payment, consecutive repeats folded."""
        seen = self.js(f"window.__seen.filter(x => x[0] === {json.dumps(payment_hash)}).map(x => x[1])") or []
        out = []
        for s in seen:
            if not out or out[-1] != s:
                out.append(s)
        return out

    def storage_and_cookies(self):
        return self.js("({local: localStorage.length, session: sessionStorage.length, cookie: document.cookie, url: location.href})")

    def heap(self):
        """(used, total) bytes of the page's JS heap (CDP Runtime.getHeapUsage)."""
        r = self.browser.call("Runtime.getHeapUsage")
        return r["usedSize"], r["totalSize"]

    def dom_nodes(self):
        return self.js("document.getElementsByTagName('*').length")

    def metrics(self):
        return self.js("window.paytrackDashboard.metrics.summary()")

    def reset_metrics(self):
        self.js("window.paytrackDashboard.metrics.reset(), true")

    def close(self):
        self.browser.close()


def keysend_request(dest_pubkey_hex, amt_sat=1, seed=None):
    """A routerrpc.SendPaymentRequest for a keysend of `amt_sat` to `dest_pubkey_hex`."""
    import lnd
    from routerrpc import router_pb2 as rt
    preimage, payment_hash = lnd.preimage_and_hash(seed)
    return rt.SendPaymentRequest(dest=bytes.fromhex(dest_pubkey_hex), amt=amt_sat, payment_hash=payment_hash,
                                 dest_custom_records={lnd.KEYSEND_TYPE: preimage}, timeout_seconds=30,
                                 fee_limit_sat=100)


def store_payments(node, dest_pubkey_hex, count, parallel=64):
    """Makes `count` finished keysend payments from `node` as fast as the daemon takes them
    (`parallel` SendPaymentV2 streams at a time); returns how many succeeded."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    ok = [0]
    lock = threading.Lock()

    def one(i):
        for p in node.router.SendPaymentV2(keysend_request(dest_pubkey_hex, 1), timeout=120):
            last = p
        with lock:
            ok[0] += last.status == 2
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, range(count)))
    return ok[0]


class Load:
    """A background sender of keysend payments at `per_second` payments per second (each
    payment is at least two TrackPayments updates: in flight, then settled)."""

    def __init__(self, node, dest_pubkey_hex, per_second):
        import threading
        self.node, self.dest, self.rate = node, dest_pubkey_hex, per_second
        self.stop_flag = threading.Event()
        self.sent = 0
        self.threads = []

    def start(self):
        import threading
        from concurrent.futures import ThreadPoolExecutor
        self.pool = ThreadPoolExecutor(64)

        def pace():
            t0 = time.time()
            while not self.stop_flag.is_set():
                due = t0 + self.sent / self.rate
                delay = due - time.time()
                if delay > 0:
                    time.sleep(delay)
                self.pool.submit(lambda: list(self.node.router.SendPaymentV2(keysend_request(self.dest, 1), timeout=120)))
                self.sent += 1
        t = threading.Thread(target=pace, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join()
        self.pool.shutdown(wait=True)
