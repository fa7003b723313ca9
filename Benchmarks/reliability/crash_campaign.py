#!/usr/bin/env python3
"""Campaign (a) of issue 17: kill -9 of paytrackd at random moments while payments are sent and
tracked over every API it serves, restarting each time on the same datadir.

One daemon (the interop harness's: alice on --rpclisten, bob served beside, alice's REST gateway,
WebSocket proxy and Komodo mmrpc API) with `--sim.latency MS` so payments are in flight when the
process dies. Each life of the daemon:

1. after the restart: every payment a client got an acknowledgement for is listed (ListPayments,
   include_incomplete) -- else it is LOST; the ones still in flight are noted;
2. every tracker that had not yet seen its payment's final state reconnects over its own API;
   a TrackPayments stream reconnects with PayTrack's `paytrack-replay-since` metadata;
3. new payments alice -> bob start at random offsets, round-robin over gRPC SendPaymentV2, REST
   POST /v2/router/send (NDJSON stream) and mmrpc `lightning::payments::send_payment`; the
   acknowledgement is the first streamed snapshot, or mmrpc's 200 answer with the hash. Each
   acknowledged payment gets a tracker, round-robin over gRPC TrackPaymentV2, REST
   GET /v2/router/track/{hash} (NDJSON), WebSocket /v2/router/track/{hash}?method=GET and mmrpc
   `get_payment_details` (polled); a few are multi-path (3,000,000 sat);
4. SIGKILL at a random moment (uniform between --kill-min and --kill-max seconds into the life).

After the last kill a final life tops the acknowledged payments up to --payments if needed, waits
until every payment is terminal and every tracker has seen the final state, and checks:

- lost: acknowledged hashes missing after a restart (checked after every restart and at the end);
- duplicated: a payment hash, payment index or HTLC attempt id twice in ListPayments; a hash twice
  in alice's Komodo records (`list_payments_by_filter`, outbound);
- HTLC sent twice: the payee's own records. Bob's invoice registry (durable, its own SQLite file)
  keeps every HTLC that reached bob (`LookupInvoice.htlcs`: incoming channel, amount, state). The
  payer registers an attempt (id, route) durably before it hands the HTLC to the network, and a
  lost attempt is failed at restart, never re-sent under the same id. So for every payment hash and
  every (last-hop channel, amount) the number of HTLCs bob received must not exceed the number of
  attempts alice recorded with that last hop and amount; bob's settled HTLCs must be exactly
  alice's succeeded attempts, and the invoice's amt_paid_msat the sum of their amounts (a SUCCEEDED
  payment's invoice paid once, a FAILED payment's invoice never paid);
- every payment in flight at a kill is terminal after the restarts (resolved), and
- every reconnecting tracker saw the final state ListPayments shows (status, and over gRPC/REST/WS
  the number of HTLC attempts and the preimage); TrackPayments saw each payment's final state.

One command: `Benchmarks/reliability/crash_campaign.py` (the debug daemon, or $PAYTRACKD). Options:
--kills 100 --payments 1000 --latency 150 --seed 1. Exits 1 if any invariant is violated.
"""
import argparse
import base64
import collections
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "Interop"))

import harness  # noqa: E402

harness.generate_stubs()

import grpc  # noqa: E402
import requests  # noqa: E402
import urllib3  # noqa: E402
import websocket  # noqa: E402

import lnd  # noqa: E402
from lnd import ln, rt  # noqa: E402

urllib3.disable_warnings()
TERMINAL = {"SUCCEEDED", "FAILED"}
STATUS_NAME = {v: k for k, v in ln.Payment.PaymentStatus.items()}
KDF_STATUS = {"succeeded": "SUCCEEDED", "failed": "FAILED", "pending": "IN_FLIGHT"}
SENDERS = ("grpc", "rest", "mmrpc")
TRACKERS = ("grpc", "rest", "ws", "mmrpc")
REPLAY = "paytrack-replay-since"


class Payment:
    def __init__(self, index, pay_req, r_hash, value_sat, sender, tracker):
        self.index, self.pay_req, self.r_hash, self.value_sat = index, pay_req, r_hash, value_sat
        self.hash = r_hash.hex()
        self.sender, self.tracker = sender, tracker
        self.acked = False
        self.final = None            # (status, attempts, preimage) a tracker saw
        self.tracker_sessions = 0    # tracker connections made
        self.interrupted = 0         # tracker connections cut by a kill before the final state
        self.early_ends = 0          # tracker connections that ended without the final state, no kill near
        self.tracking = False
        self.send_done = False
        self.last_seen = None


class Campaign:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = Path(tempfile.mkdtemp(prefix="crash-campaign-"))
        # Every life starts this copy, so a build during the campaign cannot change the daemon.
        binary = self.work / "paytrackd"
        shutil.copy2(harness.PAYTRACKD, binary)
        harness.PAYTRACKD = str(binary)
        self.net = lnd.Net(self.work / "node", "--sim.latency", str(args.latency),
                           channel_options=lnd.NO_BDP_PROBE)
        self.net.daemon.debuglevel = "info"
        self.payments = []
        self.lock = threading.Lock()
        self.unacked_at_kill = []     # payments whose send had started but was not acknowledged
        self.inflight_at_kill = set()
        self.lost_events = []
        self.tracker_errors = []
        self.refused = []
        self.killing = False        # set just before a kill: streams cut from then on are the kill's
        self.track_payments_seen = {}  # hash -> last status seen on TrackPayments
        self.replay_since = 0
        self.kills = 0
        self.kills_with_inflight = 0
        self.life_threads = []
        self.track_payments_call = None

    # -- the daemon's endpoints -----------------------------------------------------------------
    @property
    def d(self):
        return self.net.daemon

    def rest_kw(self):
        return {"verify": str(self.d.cert_path), "headers": {"Grpc-Metadata-macaroon": self.d.macaroon_hex()},
                "timeout": 60}

    def kdf(self, method, params):
        body = {"userpass": self.d.kdf_password, "mmrpc": "2.0", "method": method, "params": params, "id": 1}
        r = requests.post(self.d.kdf_url, data=json.dumps(body), timeout=60)
        return r.status_code, r.json()

    # -- senders --------------------------------------------------------------------------------
    def send(self, p):
        try:
            if p.sender == "grpc":
                call = self.net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
                    payment_request=p.pay_req, timeout_seconds=60, fee_limit_sat=100_000), timeout=120)
                for _ in call:
                    self.ack(p)
                    call.cancel()        # the tracker follows it from here
                    break
            elif p.sender == "rest":
                r = requests.post(self.d.rest_url + "/v2/router/send", json={
                    "payment_request": p.pay_req, "timeout_seconds": 60, "fee_limit_sat": "100000"},
                    stream=True, **self.rest_kw())
                for line in r.iter_lines():
                    if line and "result" in json.loads(line):
                        self.ack(p)
                        break
                r.close()
            else:
                s, v = self.kdf("lightning::payments::send_payment",
                                {"coin": "tBTC-lightning", "payment": {"type": "invoice", "invoice": p.pay_req}})
                if s == 200 and v["result"]["payment_hash"] == p.hash:
                    self.ack(p)
                else:
                    raise RuntimeError(f"send_payment answered {s} {v}")
        except (grpc.RpcError, requests.RequestException, OSError, ValueError, KeyError):
            pass                          # the daemon died under it (KeyError: its channels are closed already)
        except RuntimeError as e:         # refused (e.g. no route while liquidity is locked): not a payment
            with self.lock:
                self.refused.append(f"{p.sender}: {e}")
            p.send_done = True
            return
        if not p.acked:
            with self.lock:
                self.unacked_at_kill.append(p)
        p.send_done = True

    def ack(self, p):
        with self.lock:
            if p.acked:
                return
            p.acked = True
        self.start_thread(self.track, p)

    # -- trackers -------------------------------------------------------------------------------
    def track(self, p):
        p.tracker_sessions += 1
        p.tracking = True
        try:
            seen = getattr(self, "track_" + p.tracker)(p)
        except (grpc.RpcError, requests.RequestException, websocket.WebSocketException, OSError, ValueError, KeyError):
            seen = None
        except Exception as e:      # an answer no API should give: shown at the end
            self.tracker_errors.append(f"{p.tracker} {p.hash}: {e}")
            seen = None
        if seen is None and not self.killing:
            p.early_ends += 1
            self.tracker_errors.append(f"{p.tracker} {p.hash}: the stream ended before the final state")
        elif seen is None:
            p.interrupted += 1
        else:
            p.final = seen
        p.tracking = False

    def track_grpc(self, p):
        last = None
        for m in self.net.alice.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=p.r_hash), timeout=300):
            last = m
            p.last_seen = STATUS_NAME[m.status]
        if last is None or STATUS_NAME[last.status] not in TERMINAL:
            return None
        return STATUS_NAME[last.status], len(last.htlcs), last.payment_preimage

    def track_rest(self, p):
        h = base64.urlsafe_b64encode(p.r_hash).decode()
        r = requests.get(f"{self.d.rest_url}/v2/router/track/{h}", stream=True, **self.rest_kw())
        last = None
        for line in r.iter_lines():
            if line:
                last = json.loads(line).get("result")
                p.last_seen = last and last["status"]
        return self.from_json(last)

    def track_ws(self, p):
        h = base64.urlsafe_b64encode(p.r_hash).decode()
        ws = websocket.create_connection(
            f"wss://127.0.0.1:{self.d.rest_port}/v2/router/track/{h}?method=GET",
            header=[f"Grpc-Metadata-Macaroon: {self.d.macaroon_hex()}"],
            sslopt={"ca_certs": str(self.d.cert_path), "check_hostname": False}, timeout=300)
        last = None
        try:
            while True:
                op, data = ws.recv_data(control_frame=True)
                if op == websocket.ABNF.OPCODE_TEXT:
                    last = json.loads(data).get("result")
                    p.last_seen = last and last["status"]
                elif op == websocket.ABNF.OPCODE_PING:
                    ws.pong(data)
                elif op == websocket.ABNF.OPCODE_CLOSE:
                    break
        finally:
            ws.close()
        return self.from_json(last)

    @staticmethod
    def from_json(last):
        if not last or last["status"] not in TERMINAL:
            return None
        return last["status"], len(last["htlcs"]), last["payment_preimage"]

    def track_mmrpc(self, p):
        while True:
            s, v = self.kdf("lightning::payments::get_payment_details", {"coin": "tBTC-lightning", "payment_hash": p.hash})
            if s >= 500 or (s != 200 and v.get("error_type") != "NoSuchPayment"):
                raise RuntimeError(f"get_payment_details answered {s} {v}")
            if s != 200:       # acknowledged but its record is not there: counted as a tracker failure
                raise RuntimeError(f"get_payment_details answered {s} {v}")
            status = p.last_seen = KDF_STATUS[v["result"]["payment_details"]["status"]]
            if status in TERMINAL:
                return status, None, None
            time.sleep(0.1)

    def track_payments(self):
        md = [(REPLAY, str(self.replay_since))] if self.replay_since else []
        call = self.net.alice.router.TrackPayments(rt.TrackPaymentsRequest(), metadata=md, timeout=3600)
        self.track_payments_call = call
        try:
            for m in call:
                self.track_payments_seen[m.payment_hash] = STATUS_NAME[m.status]
                t = max([m.creation_time_ns] + [h.attempt_time_ns for h in m.htlcs] + [h.resolve_time_ns for h in m.htlcs])
                self.replay_since = max(self.replay_since, t)
        except grpc.RpcError:
            pass

    def start_thread(self, fn, *a):
        t = threading.Thread(target=fn, args=a, daemon=True)
        t.start()
        with self.lock:
            self.life_threads.append(t)

    # -- one life of the daemon -----------------------------------------------------------------
    def listing(self):
        got = self.net.alice.ln.ListPayments(ln.ListPaymentsRequest(include_incomplete=True, max_payments=1_000_000),
                                            timeout=60)
        return list(got.payments)

    def after_restart(self):
        listed = {p.payment_hash: p for p in self.listing()}
        for p in self.payments:
            if p.acked and p.hash not in listed:
                self.lost_events.append((self.kills, p.hash))
        inflight = {h for h, p in listed.items() if STATUS_NAME[p.status] not in TERMINAL}
        self.inflight_at_kill |= inflight
        if inflight:
            self.kills_with_inflight += 1
        self.start_thread(self.track_payments)
        for p in self.payments:
            if p.acked and p.final is None:
                self.start_thread(self.track, p)

    def new_payments(self, count):
        bob = self.net.node("bob")
        out = []
        for _ in range(count):
            i = len(self.payments)
            value = 3_000_000 if i % 37 == 36 else self.rng.randint(1_000, 20_000)
            inv = bob.add_invoice(value=value, memo=f"crash {i}")
            # Komodo's get_payment_details knows only payments sent over mmrpc (KDF records).
            sender = SENDERS[i % 3]
            tracker = TRACKERS[(i // 3) % 4] if sender == "mmrpc" else TRACKERS[(i // 3) % 3]
            p = Payment(i, inv.payment_request, inv.r_hash, value, sender, tracker)
            self.payments.append(p)
            out.append(p)
        return out

    def life(self, kill):
        self.net.start()
        self.killing = False
        self.after_restart()
        acked = sum(p.acked for p in self.payments)
        want = min(self.args.per_life, max(self.args.payments - acked, 0)) if kill else max(self.args.payments - acked, 0)
        fresh = self.new_payments(want)
        t0 = time.monotonic()
        kill_at = self.rng.uniform(self.args.kill_min, self.args.kill_max) if kill else 0
        for p in fresh:
            delay = self.rng.uniform(0, kill_at) if kill else 0
            timer = threading.Timer(delay, self.start_thread, (self.send, p))
            timer.daemon = True
            timer.start()
            with self.lock:
                self.life_threads.append(timer)
        if kill:
            time.sleep(max(0.0, kill_at - (time.monotonic() - t0)))
            self.killing = True
            self.net.kill9()
            self.kills += 1
        else:
            self.finish()
            self.track_payments_call.cancel()
        self.join_life()

    def join_life(self):
        deadline = time.time() + 120
        while True:
            with self.lock:
                threads = [t for t in self.life_threads if t.is_alive()]
                self.life_threads = threads
            if not threads:
                return
            if time.time() > deadline:
                raise RuntimeError(f"{len(threads)} client threads still running 120 s after the kill")
            threads[0].join(timeout=1)

    def finish(self):
        """The last life: top up to --payments, wait for every tracker and every payment."""
        while sum(p.acked for p in self.payments) < self.args.payments:
            # In batches of --per-life, each finished before the next, as liquidity allows.
            fresh = self.new_payments(min(self.args.per_life, self.args.payments - sum(p.acked for p in self.payments)))
            for p in fresh:
                self.start_thread(self.send, p)
            self.wait_threads(lambda: all(p.send_done for p in fresh), 120)
            try:
                lnd.wait_until(lambda: all(p.final for p in fresh if p.acked), timeout=60, interval=0.1)
            except TimeoutError:
                pass                  # counted below
        deadline = time.time() + 300
        while time.time() < deadline and not all(p.final for p in self.payments if p.acked):
            for p in self.payments:   # a tracker whose stream ended early (counted) connects again
                if p.acked and p.final is None and not p.tracking:
                    self.start_thread(self.track, p)
            time.sleep(1)
        for what, pred, timeout in (
                ("every payment terminal", lambda: all(STATUS_NAME[p.status] in TERMINAL for p in self.listing()), 300),
                ("TrackPayments to see every final state",
                 lambda: all(self.track_payments_seen.get(p.hash) in TERMINAL for p in self.payments if p.acked), 60)):
            try:
                lnd.wait_until(pred, timeout=timeout, interval=0.5, what=what)
            except TimeoutError as e:
                print(e)              # the invariants below show what is missing

    @staticmethod
    def wait_threads(pred, timeout):
        lnd.wait_until(pred, timeout=timeout, interval=0.2, what="sends to finish")

    # -- invariants -----------------------------------------------------------------------------
    def check(self):
        listed = self.listing()
        self.final_hashes = {p.payment_hash for p in listed}
        by_hash = {p.payment_hash: p for p in listed}
        acked = [p for p in self.payments if p.acked]
        rows = []

        def row(name, value, ok, detail=""):
            rows.append((name, value, ok, detail))

        lost_final = [p.hash for p in acked if p.hash not in by_hash]
        row("payments lost (acknowledged, missing after a restart)", len(self.lost_events) + len(lost_final),
            not self.lost_events and not lost_final, f"checked after each of {self.kills} restarts and at the end")
        hashes = [p.payment_hash for p in listed]
        row("payment hashes listed twice", len(hashes) - len(set(hashes)), len(hashes) == len(set(hashes)),
            f"{len(hashes)} payments listed")
        indexes = [p.payment_index for p in listed]
        row("payment indexes twice", len(indexes) - len(set(indexes)), len(indexes) == len(set(indexes)))
        attempt_ids = [h.attempt_id for p in listed for h in p.htlcs]
        row("HTLC attempt ids twice", len(attempt_ids) - len(set(attempt_ids)),
            len(attempt_ids) == len(set(attempt_ids)), f"{len(attempt_ids)} attempts")
        s, v = self.kdf("lightning::payments::list_payments_by_filter",
                        {"coin": "tBTC-lightning", "limit": 100000})
        kdf_hashes = [r["payment_hash"] for r in v["result"]["payments"]
                      if r["payment_type"]["type"] == "Outbound Payment"] if s == 200 else None
        kdf_dups = len(kdf_hashes) - len(set(kdf_hashes)) if kdf_hashes is not None else -1
        mm_acked = [p.hash for p in acked if p.sender == "mmrpc"]
        kdf_missing = [h for h in mm_acked if kdf_hashes is None or h not in set(kdf_hashes)]
        row("Komodo outbound records twice / missing", f"{kdf_dups} / {len(kdf_missing)}", kdf_dups == 0 and not kdf_missing,
            f"{len(kdf_hashes or [])} records, {len(mm_acked)} sent over mmrpc" + ("" if s == 200 else f"; answered {s} {v}"))

        # The payee's records against the payer's attempts.
        bob = self.net.node("bob")
        twice = over_paid = settle_mismatch = paid_but_failed = bob_htlcs = 0
        for p in acked:
            pay = by_hash.get(p.hash)
            if pay is None:
                continue
            inv = bob.ln.LookupInvoice(ln.PaymentHash(r_hash=p.r_hash), timeout=10)
            bob_htlcs += len(inv.htlcs)
            attempts = collections.Counter((h.route.hops[-1].chan_id, h.route.hops[-1].amt_to_forward_msat)
                                           for h in pay.htlcs if h.route.hops)
            arrived = collections.Counter((h.chan_id, h.amt_msat) for h in inv.htlcs)
            twice += sum(max(0, n - attempts[k]) for k, n in arrived.items())
            settled_bob = sorted(h.amt_msat for h in inv.htlcs if h.state == ln.InvoiceHTLCState.Value("SETTLED"))
            settled_alice = sorted(h.route.hops[-1].amt_to_forward_msat for h in pay.htlcs if h.status == lnd.HTLC_SUCCEEDED)
            if settled_bob != settled_alice:
                settle_mismatch += 1
            if inv.amt_paid_msat != sum(settled_alice):
                over_paid += 1
            if STATUS_NAME[pay.status] == "FAILED" and inv.amt_paid_msat:
                paid_but_failed += 1
            if STATUS_NAME[pay.status] == "SUCCEEDED" and inv.amt_paid_msat != p.value_sat * 1000:
                over_paid += 1
        row("HTLCs that reached the payee more often than attempts recorded", twice, twice == 0,
            f"{bob_htlcs} HTLCs in bob's invoice records")
        row("payee's settled HTLCs != payer's succeeded attempts", settle_mismatch, settle_mismatch == 0)
        row("invoices paid other than once per SUCCEEDED payment", over_paid + paid_but_failed,
            over_paid + paid_but_failed == 0, f"of which paid though FAILED: {paid_but_failed}")

        unresolved = [h for h in self.inflight_at_kill if STATUS_NAME[by_hash[h].status] not in TERMINAL]
        outcomes = collections.Counter(STATUS_NAME[by_hash[h].status] for h in self.inflight_at_kill)
        row("payments in flight at a kill, unresolved at the end", len(unresolved), not unresolved,
            f"{len(self.inflight_at_kill)} were in flight at a kill; now {dict(outcomes)}")

        wrong = []
        for p in acked:
            pay = by_hash.get(p.hash)
            if pay is None or p.final is None:
                wrong.append(p.hash)
                continue
            status, attempts, preimage = p.final
            if status != STATUS_NAME[pay.status] or (attempts is not None and (attempts, preimage) !=
                                                     (len(pay.htlcs), pay.payment_preimage)):
                wrong.append(p.hash)
        for h in wrong[:10]:
            p = next(q for q in acked if q.hash == h)
            print(f"  tracker without the final state: {h} sent over {p.sender}, tracked over {p.tracker}, "
                  f"last saw {p.last_seen}, still connected: {p.tracking}, listed "
                  f"{STATUS_NAME[by_hash[h].status] if h in by_hash else None}", flush=True)
        reconnected = [p for p in acked if p.interrupted]
        early = sum(p.early_ends for p in acked)
        row("tracker streams that ended before the final state (no kill)", early, early == 0,
            "then connected again")
        row("trackers that did not see the final state", len(wrong), not wrong,
            f"{len(acked)} trackers, {sum(p.tracker_sessions for p in acked)} connections; "
            f"{len(reconnected)} reconnected after a kill ({sum(p.interrupted for p in acked)} cut connections)")
        tp_wrong = [p.hash for p in acked if self.track_payments_seen.get(p.hash) != STATUS_NAME[by_hash[p.hash].status]]
        row("TrackPayments (resumed with paytrack-replay-since) missing a final state", len(tp_wrong), not tp_wrong)
        return rows

    def run(self):
        started = time.time()
        for _ in range(self.args.kills):
            self.life(kill=True)
            if self.kills % 10 == 0:
                acked = sum(p.acked for p in self.payments)
                print(f"  {self.kills} kills, {acked} payments acknowledged, {len(self.inflight_at_kill)} in flight at a"
                      f" kill so far, load {os.getloadavg()[0]:.2f}", flush=True)
        self.life(kill=False)
        rows = self.check()
        elapsed = time.time() - started
        acked = [p for p in self.payments if p.acked]
        print()
        print(f"kills: {self.kills} (SIGKILL {self.args.kill_min}-{self.args.kill_max} s into each life; "
              f"{self.kills_with_inflight} restarts found payments in flight), --sim.latency {self.args.latency}")
        print(f"payments acknowledged: {len(acked)} (" + ", ".join(
            f"{s} {sum(p.sender == s for p in acked)}" for s in SENDERS) + "); trackers: " + ", ".join(
            f"{t} {sum(p.tracker == t for p in acked)}" for t in TRACKERS))
        unacked = self.unacked_at_kill
        print(f"sends refused at once (not payments): {len(self.refused)}" + (f", e.g. {self.refused[0][:160]}" if self.refused else ""))
        print(f"sends cut by a kill before their acknowledgement: {len(unacked)}, of which "
              f"{sum(p.hash in self.final_hashes for p in unacked)} were recorded anyway (allowed)")
        print(f"elapsed {elapsed:.0f} s, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print()
        width = max(len(r[0]) for r in rows)
        for name, value, ok, detail in rows:
            print(f"{name:<{width}}  {str(value):>7}  {'PASS' if ok else 'FAIL'}  {detail}")
        failed = [r for r in rows if not r[2]]
        print(f"\n{len(rows) - len(failed)}/{len(rows)} invariants hold; datadir {self.work}")
        for e in self.tracker_errors[:10]:
            print("tracker error:", e)
        if self.lost_events:
            print("lost:", self.lost_events[:10])
        self.net.stop()
        return 1 if failed else 0


def run_campaign(args):
    """Runs the campaign; whatever happens, no daemon of it is left running."""
    c = Campaign(args)
    try:
        return c.run()
    finally:
        proc = c.net.daemon.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--payments", type=int, default=1000)
    ap.add_argument("--per-life", type=int, default=10, help="payments started in each life before its kill")
    ap.add_argument("--latency", type=int, default=150, help="--sim.latency in ms per hop")
    ap.add_argument("--kill-min", type=float, default=0.05)
    ap.add_argument("--kill-max", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sys.exit(run_campaign(args))


if __name__ == "__main__":
    main()
