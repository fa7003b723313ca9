"""The live dashboard (issue 18) in a real browser: Debian's headless Chromium over the DevTools
protocol loads the page paytrackd serves at / on its REST listener, the macaroon is typed in,
an invoice of bob's is paid from the page and followed IN_FLIGHT -> SUCCEEDED in the table and
on the graph; a payment failing at a hop shows that hop; a memo with markup stays text; the
security headers are there; it works without macaroons, on a narrow screen and by keyboard; and
with 10,000 stored payments under 100 updates/s the page keeps up (figures printed, no timing
assertion: Benchmarks/dashboard/run measures the long run).

Screenshots of each step are kept under the test's tmp dir (pytest's basetemp), not committed.
"""
import json
import re
import time

import pytest
import requests

import harness
import lnd
from dashboard_driver import Load, Page, store_payments

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'{peers}; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def csp_with(*origins):
    """The page's policy when the process also serves REST at `origins` ("https://HOST:PORT")."""
    return CSP.format(peers="".join(f" {o} wss://{o[len('https://'):]}" for o in origins))
MARKUP_MEMO = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><b>bold</b>'


def start_net(tmp_path_factory, name, *flags):
    bob_rest = harness.free_port()
    n = lnd.Net(tmp_path_factory.mktemp(name) / "node", *flags, "--serve-rest", f"bob=127.0.0.1:{bob_rest}").start()
    n.bob_rest_url = f"https://127.0.0.1:{bob_rest}"
    return n


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    # 150 ms per hop: an attempt to bob stays in flight for several frames.
    n = start_net(tmp_path_factory, "dash", "--sim.latency", "150")
    yield n
    n.stop()


@pytest.fixture
def page(net, tmp_path):
    p = Page(tmp_path / "profile", net.daemon.rest_url + "/", shots_dir=tmp_path / "screenshots")
    p.open()
    p.login(net.daemon.macaroon_hex())
    yield p
    p.close()


def bob_balance_on_graph(page):
    """bob's side of every channel of bob's, summed, as the graph shows it (sat)."""
    return page.js("""Array.from(document.querySelectorAll('#graph .chan')).reduce((s, g) =>
        s + (g.dataset.n1 === 'bob' ? Number(g.dataset.b1) : g.dataset.n2 === 'bob' ? Number(g.dataset.b2) : 0), 0)""")


def row_status(page, payment_hash):
    return page.js(f"(() => {{ const r = document.querySelector('.row[data-hash=\"{payment_hash}\"]'); return r ? r.dataset.status : null; }})()")


# ------------------------------------------------------------------------------------------------

def test_page_and_its_files_carry_the_security_headers(net):
    cert = str(net.daemon.cert_path)
    for path, ctype in [("/", "text/html"), ("/index.html", "text/html"), ("/app.js", "text/javascript"), ("/app.css", "text/css")]:
        r = requests.get(net.daemon.rest_url + path, verify=cert)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"].startswith(ctype), path
        assert r.headers["Content-Security-Policy"] == csp_with(net.bob_rest_url), path
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    html = requests.get(net.daemon.rest_url + "/", verify=cert).text
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all('src="/app.js"' in s for s in scripts), "no inline script in the page"
    assert not re.search(r"\son[a-z]+\s*=", html), "no inline event handlers"
    assert not re.search(r"\sstyle\s*=", html), "no inline styles"
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "no third-party origins"
    # The page needs no macaroon to load; the API behind it does.
    assert requests.get(net.daemon.rest_url + "/v1/getinfo", verify=cert).status_code != 200
    # bob's REST listener serves the page too.
    r = requests.get(net.bob_rest_url + "/", verify=str(net.datadir / "nodes/bob/tls.cert"))
    assert r.status_code == 200 and r.headers["Content-Security-Policy"] == csp_with(net.daemon.rest_url)
    # Each page lists the other served nodes it may make invoices on.
    assert requests.get(net.daemon.rest_url + "/dashboard-peers.json", verify=cert).json() == \
        [{"alias": "bob", "url": net.bob_rest_url}]


def test_network_extension_lists_every_channel_with_both_balances(net):
    h = {"Grpc-Metadata-macaroon": net.daemon.macaroon_hex()}
    r = requests.get(net.daemon.rest_url + "/v1/paytrack/network?include_unannounced=true", headers=h,
                     verify=str(net.daemon.cert_path))
    assert r.status_code == 200
    j = r.json()
    aliases = {n["alias"]: n for n in j["nodes"]}
    assert set(aliases) == {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory"}
    assert aliases["alice"]["served"] and aliases["bob"]["served"] and not aliases["carol"]["served"]
    assert len(j["channels"]) == len(lnd.TOPOLOGY)
    by_pub = {n["pub_key"]: n["alias"] for n in j["nodes"]}
    for c in j["channels"]:
        assert int(c["node1_balance_msat"]) + int(c["node2_balance_msat"]) == int(c["capacity"]) * 1000
        assert c["node1_pub"] < c["node2_pub"]          # node1 is the lesser key (BOLT 7)
    # Before any payment of this module, every channel holds the topology's balances.
    want = {frozenset((a, b)): (a, bal * 1000, cap, priv) for a, b, cap, bal, priv, _, _ in lnd.TOPOLOGY}
    for c in j["channels"]:
        n1, n2 = by_pub[c["node1_pub"]], by_pub[c["node2_pub"]]
        a, bal_a, cap, priv = want[frozenset((n1, n2))]
        assert int(c["capacity"]) == cap and c["private"] == priv
        assert int(c["node1_balance_msat"] if n1 == a else c["node2_balance_msat"]) == bal_a, (n1, n2)
        assert c["node1_locked_msat"] == "0" and c["node2_locked_msat"] == "0"
        assert c["node1_policy"]["time_lock_delta"] > 0 and c["node2_policy"]["time_lock_delta"] > 0
    assert not any(c["private"] for c in requests.get(net.daemon.rest_url + "/v1/paytrack/network", headers=h,
                                                       verify=str(net.daemon.cert_path)).json()["channels"])
    # The permission is info:read: the invoice macaroon has none (LND's answer: Unknown, 500).
    r = requests.get(net.daemon.rest_url + "/v1/paytrack/network",
                     headers={"Grpc-Metadata-macaroon": net.daemon.macaroon_hex("invoice")}, verify=str(net.daemon.cert_path))
    assert r.status_code == 500 and r.json() == {"code": 2, "message": "permission denied", "details": []}
    r = requests.get(net.daemon.rest_url + "/v1/paytrack/network",
                     headers={"Grpc-Metadata-macaroon": net.daemon.macaroon_hex("readonly")}, verify=str(net.daemon.cert_path))
    assert r.status_code == 200


def test_pay_an_invoice_from_the_page_in_flight_then_succeeded_with_route(net, page):
    st = page.storage_and_cookies()
    assert st == {"local": 0, "session": 0, "cookie": "", "url": net.daemon.rest_url + "/"}, "no secret in URL or storage"
    assert page.js("document.getElementById('mac-hex').value") == ""
    page.shot("connected")
    before = bob_balance_on_graph(page)
    inv = net.node("bob").add_invoice(value=5_000, memo="dashboard coffee")
    h = inv.r_hash.hex()
    page.set_value("pay-req", inv.payment_request)
    page.wait("document.getElementById('pay-decoded').textContent.includes('5,000 sat to bob')")
    page.shot("invoice-decoded")
    page.click("pay-go")
    page.wait(f"(() => {{ const r = document.querySelector('.row[data-hash=\"{h}\"]'); return r && r.dataset.status === 'IN_FLIGHT'; }})()")
    page.shot("in-flight")
    page.wait(f"(() => {{ const r = document.querySelector('.row[data-hash=\"{h}\"]'); return r && r.dataset.status === 'SUCCEEDED'; }})()")
    assert page.statuses(h) == ["IN_FLIGHT", "SUCCEEDED"]
    # The page selected the payment: the detail and its route over the graph.
    page.wait(f"window.paytrackDashboard.selected === '{h}' && !!document.querySelector('#routes polyline.route.SUCCEEDED')")
    path = page.js("document.querySelector('#routes polyline.route.SUCCEEDED').dataset.path").split(">")
    final = net.alice.list_payments(include_incomplete=True).payments[-1]
    assert final.payment_hash == h and final.status == lnd.SUCCEEDED
    settled = [a for a in final.htlcs if a.status == lnd.HTLC_SUCCEEDED][0]
    assert path == ["alice"] + lnd.route_aliases(settled.route), "the route drawn is the settled attempt's route"
    assert path[0] == "alice" and path[-1] == "bob"
    hops = page.js("Array.from(document.querySelectorAll('#detail .attempt[data-status=\"SUCCEEDED\"] tr td:nth-child(2)')).map(e => e.textContent)")
    assert hops == path[1:]
    assert page.text("#detail .st") == "SUCCEEDED"
    # Balances move: bob's side grows by the amount once the settle is seen.
    lnd.wait_until(lambda: bob_balance_on_graph(page) == before + 5_000, timeout=15, what="bob's balance on the graph")
    page.shot("succeeded-route")


def test_macaroon_picked_from_a_file_and_a_wrong_one_refused(net, tmp_path):
    p = Page(tmp_path / "profile", net.daemon.rest_url + "/", shots_dir=tmp_path / "screenshots")
    try:
        p.open()
        p.wait("!document.getElementById('auth').hidden")
        # A macaroon of another node (bob's) is refused with the daemon's text; the form stays.
        p.set_value("mac-hex", (net.datadir / "nodes/bob/data/chain/bitcoin/testnet/admin.macaroon").read_bytes().hex())
        p.click("mac-connect")
        p.wait("document.getElementById('auth-error').textContent.startsWith('GetInfo: ')")
        assert p.js("document.getElementById('app').hidden") is True
        p.shot("wrong-macaroon")
        p.pick_file("#mac-file", net.daemon.macaroon_path())
        p.wait(f"document.getElementById('mac-hex').value === '{net.daemon.macaroon_hex()}'")
        p.click("mac-connect")
        p.wait_live()
        assert p.storage_and_cookies() == {"local": 0, "session": 0, "cookie": "", "url": net.daemon.rest_url + "/"}
        assert p.js("document.getElementById('mac-hex').value") == ""
    finally:
        p.close()


def test_memo_with_markup_renders_as_text(net, page):
    # Made from the page's own form, listed by SubscribeInvoices.
    page.set_value("inv-amt", "777")
    page.set_value("inv-memo", MARKUP_MEMO)
    page.click("inv-go")
    page.wait("document.getElementById('inv-out').value.startsWith('lntb')")
    page.wait(f"Array.from(document.querySelectorAll('#inv-list .memo')).some(e => e.textContent === {json.dumps(MARKUP_MEMO)})")
    # Decoded in the pay form (bob's invoice, decoded by alice).
    inv = net.node("bob").add_invoice(value=10, memo=MARKUP_MEMO)
    page.set_value("pay-req", inv.payment_request)
    page.wait(f"document.querySelector('#pay-decoded .memo') && document.querySelector('#pay-decoded .memo').textContent === {json.dumps(MARKUP_MEMO)}")
    page.shot("memo-as-text")
    assert page.js("document.querySelectorAll('#app script, #app img, #app b').length") == 0
    assert page.js("""(() => { const right = document.querySelector('.forms').getBoundingClientRect().right;
        const memos = Array.from(document.querySelectorAll('#inv-list .memo, #pay-decoded .memo'));
        return memos.length >= 2 && memos.every(m => m.getBoundingClientRect().right <= right); })()"""), \
        "a long memo wraps inside the panel"
    assert page.js("typeof window.__pwned") == "undefined"


def test_hold_invoice_made_and_canceled_from_the_page(net, page):
    page.js("document.getElementById('inv-hold').checked = true")
    page.set_value("inv-memo", "hold me")
    page.click("inv-go")
    page.wait("!!document.querySelector('#inv-list li button.danger')")
    page.js("document.querySelector('#inv-list li button.danger').click(), true")
    page.wait("document.getElementById('inv-status').textContent === 'canceled'")
    page.shot("hold-canceled")
    # The daemon agrees: the newest invoice is a canceled hold invoice with the page's memo.
    h = {"Grpc-Metadata-macaroon": net.daemon.macaroon_hex()}
    invs = requests.get(net.daemon.rest_url + "/v1/invoices", headers=h, verify=str(net.daemon.cert_path),
                        params={"reversed": "true", "num_max_invoices": "1"}).json()["invoices"]
    assert invs[0]["memo"] == "hold me" and invs[0]["state"] == "CANCELED"


def test_invoice_made_on_another_served_node_from_the_page(net, page):
    """alice's page makes an invoice (and a hold invoice it then cancels) on bob, with bob's
    macaroon typed into the page: the same AddInvoice/AddHoldInvoice/CancelInvoice calls, sent to
    bob's REST listener (its CORS allows alice's page, the page's CSP allows bob's origin)."""
    bob_mac = (net.datadir / "nodes/bob/data/chain/bitcoin/testnet/invoice.macaroon").read_bytes().hex()
    page.wait("document.getElementById('inv-node').options.length === 2")
    page.js("(() => { const s = document.getElementById('inv-node'); s.value = 'bob'; s.dispatchEvent(new Event('change')); return true; })()")
    page.set_value("inv-node-mac", bob_mac)
    page.set_value("inv-memo", "made on bob")
    page.click("inv-go")
    page.wait("document.getElementById('inv-status').className === 'status ok'")
    pay_req = page.js("document.getElementById('inv-out').value")
    cert = str(net.datadir / "nodes/bob/tls.cert")
    h = {"Grpc-Metadata-macaroon": (net.datadir / "nodes/bob/data/chain/bitcoin/testnet/admin.macaroon").read_bytes().hex()}
    dec = requests.get(f"{net.bob_rest_url}/v1/payreq/{pay_req}", headers=h, verify=cert).json()
    assert dec["destination"] == net.node("bob").pubkey and dec["description"] == "made on bob"
    page.shot("invoice-on-bob")
    # A hold invoice on bob, canceled from alice's page.
    page.js("document.getElementById('inv-hold').checked = true")
    page.set_value("inv-memo", "held on bob")
    page.click("inv-go")
    page.wait("!!document.querySelector('#inv-list li button.danger')")
    page.js("document.querySelector('#inv-list li button.danger').click(), true")
    page.wait("document.getElementById('inv-status').textContent === 'canceled'")
    invs = requests.get(f"{net.bob_rest_url}/v1/invoices", headers=h, verify=cert,
                        params={"reversed": "true", "num_max_invoices": "1"}).json()["invoices"]
    assert invs[0]["memo"] == "held on bob" and invs[0]["state"] == "CANCELED"


def test_hold_invoice_on_bob_paid_from_the_page_then_settled_from_the_page(net, page):
    """The whole hold story in one page: a hold invoice made on bob, paid from alice's pay form (the
    payment stays IN_FLIGHT while bob holds the HTLC), settled from the page once ACCEPTED, and the
    payment then SUCCEEDED in the table."""
    bob_mac = (net.datadir / "nodes/bob/data/chain/bitcoin/testnet/invoice.macaroon").read_bytes().hex()
    page.wait("document.getElementById('inv-node').options.length === 2")
    page.js("(() => { const s = document.getElementById('inv-node'); s.value = 'bob'; s.dispatchEvent(new Event('change')); return true; })()")
    page.set_value("inv-node-mac", bob_mac)
    page.js("document.getElementById('inv-hold').checked = true")
    page.set_value("inv-amt", "3000")
    page.set_value("inv-memo", "held then settled")
    page.click("inv-go")
    page.wait("document.getElementById('inv-status').className === 'status ok'")
    pay_req = page.js("document.getElementById('inv-out').value")
    h = page.js("document.getElementById('inv-status').textContent.split(' ')[1]")
    page.set_value("pay-req", pay_req)
    page.wait("document.getElementById('pay-decoded').textContent.includes('3,000 sat to bob')")
    page.click("pay-go")
    page.wait(f"(() => {{ const r = document.querySelector('.row[data-hash=\"{h}\"]'); return r && r.dataset.status === 'IN_FLIGHT'; }})()")
    # bob's SubscribeSingleInvoice (through bob's listener) reports ACCEPTED: Settle is enabled.
    page.wait("(() => { const b = document.querySelector('#inv-list li button:not(.danger)'); return b && !b.disabled; })()")
    page.shot("hold-accepted")
    assert net.alice.list_payments(include_incomplete=True).payments[-1].status == lnd.IN_FLIGHT
    page.js("document.querySelector('#inv-list li button:not(.danger)').click(), true")
    page.wait("document.getElementById('inv-status').textContent === 'settled'")
    page.wait(f"(() => {{ const r = document.querySelector('.row[data-hash=\"{h}\"]'); return r && r.dataset.status === 'SUCCEEDED'; }})()")
    assert page.statuses(h)[-2:] == ["IN_FLIGHT", "SUCCEEDED"]
    page.shot("hold-settled")


def test_keyboard_reaches_the_controls_and_walks_the_table(net, page):
    focusables = page.js("""Array.from(document.querySelectorAll('#app button, #app input, #app select, #app textarea, #rows'))
        .filter(e => e.offsetParent !== null).map(e => e.tabIndex)""")
    assert focusables and all(t >= 0 for t in focusables)
    # Tab from the start of the document reaches the payments table.
    page.js("document.activeElement && document.activeElement.blur(), true")
    reached = False
    for _ in range(40):
        page.browser.call("Input.dispatchKeyEvent", type="keyDown", key="Tab", code="Tab", windowsVirtualKeyCode=9)
        page.browser.call("Input.dispatchKeyEvent", type="keyUp", key="Tab", code="Tab", windowsVirtualKeyCode=9)
        if page.js("document.activeElement && document.activeElement.id") == "rows":
            reached = True
            break
    assert reached, "Tab reaches the payments table"
    if page.js("document.querySelectorAll('.row:not([hidden])').length") == 0:
        inv = net.node("bob").add_invoice(value=100)
        net.alice.send(payment_request=inv.payment_request)
        page.wait("document.querySelectorAll('.row:not([hidden])').length > 0")
    page.js("window.paytrackDashboard.select(null), true")
    page.browser.call("Input.dispatchKeyEvent", type="keyDown", key="ArrowDown", code="ArrowDown", windowsVirtualKeyCode=40)
    first = page.js("document.querySelector('.row:not([hidden])').dataset.hash")
    page.wait(f"window.paytrackDashboard.selected === '{first}'")
    page.wait("document.querySelectorAll('#detail .attempt').length > 0")


def test_narrow_screen_has_no_horizontal_scroll(net, tmp_path):
    p = Page(tmp_path / "profile", net.daemon.rest_url + "/", shots_dir=tmp_path / "screenshots")
    try:
        p.emulate_screen(390, 844)
        p.open()
        p.login(net.daemon.macaroon_hex())
        assert p.js("innerWidth") <= 400
        assert p.js("document.documentElement.scrollWidth <= innerWidth"), "nothing wider than the screen"
        assert p.js("getComputedStyle(document.querySelector('.app')).gridTemplateColumns.split(' ').length") == 1
        p.shot("narrow")
    finally:
        p.close()


def test_no_macaroon_asked_with_no_macaroons(tmp_path):
    d = harness.Daemon(tmp_path / "node", no_macaroons=True).start()
    p = Page(tmp_path / "profile", d.rest_url + "/", shots_dir=tmp_path / "screenshots")
    try:
        p.open()
        p.wait_live()
        assert p.js("document.getElementById('auth').hidden") is True
        assert p.text("#node-name").startswith("alice")
        p.shot("no-macaroons")
    finally:
        p.close()
        d.stop()


def test_a_payment_failing_at_a_hop_shows_the_failing_hop(tmp_path_factory, tmp_path):
    # Every forwarding node fails every HTLC (TEMPORARY_CHANNEL_FAILURE): the first hop is where it fails.
    n = start_net(tmp_path_factory, "dashfail", "--sim.latency", "20", "--sim.failrate", "1")
    p = Page(tmp_path / "profile", n.daemon.rest_url + "/", shots_dir=tmp_path / "screenshots")
    try:
        p.open()
        p.login(n.daemon.macaroon_hex())
        inv = n.node("bob").add_invoice(value=2_000, memo="will fail")
        h = inv.r_hash.hex()
        p.set_value("pay-req", inv.payment_request)
        p.click("pay-go")
        p.wait(f"(() => {{ const r = document.querySelector('.row[data-hash=\"{h}\"]'); return r && r.dataset.status === 'FAILED'; }})()", timeout=60)
        p.wait(f"window.paytrackDashboard.selected === '{h}' && document.querySelectorAll('#detail .fail-hop').length > 0")
        final = n.alice.list_payments(include_incomplete=True).payments[-1]
        assert final.payment_hash == h and final.status == lnd.FAILED
        expected = []
        for a in final.htlcs:
            assert a.failure.failure_source_index == 1
            expected.append(["1", lnd.route_aliases(a.route)[0], "TEMPORARY_CHANNEL_FAILURE"])
        shown = p.js("Array.from(document.querySelectorAll('#detail .fail-hop')).map(e => [e.dataset.hop, e.dataset.node, e.dataset.code])")
        assert shown == expected
        marks = p.js("Array.from(document.querySelectorAll('#routes .fail')).map(e => e.dataset.node)")
        assert marks == [e[1] for e in expected], "the failing hop is marked on the graph"
        assert p.js("document.querySelectorAll('#routes polyline.route.FAILED').length") == len(final.htlcs)
        p.shot("failed-at-hop")
    finally:
        p.close()
        n.stop()


def test_keeps_up_with_10000_stored_payments_and_100_updates_per_second(tmp_path_factory, tmp_path):
    """Figures only (printed and written to tmp): update -> DOM latency p50/p99 and heap over a
    short run. Benchmarks/dashboard/run is the 10-minute run of the same thing."""
    n = start_net(tmp_path_factory, "dashload", "--sim.latency", "0")
    p = None
    try:
        bob = n.node("bob").pubkey
        made = store_payments(n.alice, bob, 10_000)
        assert made == 10_000
        p = Page(tmp_path / "profile", n.daemon.rest_url + "/", shots_dir=tmp_path / "screenshots")
        p.open()
        t0 = time.time()
        p.login(n.daemon.macaroon_hex())
        load_s = time.time() - t0
        p.wait("document.getElementById('pay-count').textContent.startsWith('10,000 payments')")
        assert p.js("document.querySelectorAll('.row').length") < 60, "only visible rows are in the DOM"
        p.reset_metrics()
        heap0 = p.heap()
        load = Load(n.alice, bob, per_second=50).start()       # each payment: in flight + succeeded = 100 updates/s
        heaps = []
        for _ in range(15):
            time.sleep(1)
            heaps.append(p.heap()[0])
        load.stop()
        p.wait(f"document.getElementById('pay-count').textContent.startsWith('{10_000 + load.sent:,} payments')", timeout=60)
        m = p.metrics()
        p.shot("under-load")
        # A filter over every stored payment still answers.
        p.set_value("filter-text", "zzzz-no-such")
        p.wait("document.getElementById('pay-count').textContent.startsWith('0 of')")
        p.set_value("filter-status", "SUCCEEDED", event="change")
        report = {"stored": 10_000, "sent_during_run": load.sent, "page_load_s": round(load_s, 2), "metrics": m,
                  "heap_used_start": heap0[0], "heap_used_samples": heaps, "dom_nodes": p.dom_nodes()}
        (tmp_path / "dashboard-figures.json").write_text(json.dumps(report, indent=1))
        print("\nDASHBOARD FIGURES", json.dumps(report))
        assert m["samples"] >= load.sent, "every update was measured"
        assert m["messages"] >= 2 * load.sent
    finally:
        if p:
            p.close()
        n.stop()
