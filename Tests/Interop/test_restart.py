"""Crash and restart (kill -9 mid-flight) on the same datadir: the payment is listed and
trackable after the restart, resumes and finishes; nothing committed is lost or duplicated.
800 ms per hop keeps the HTLC in flight when the daemon is killed.
"""
import time

import grpc
import pytest

import lnd
from lnd import ln, rt

UNKNOWN_FAILURE = ln.Failure.FailureCode.Value("UNKNOWN_FAILURE")


def _start_send(net, pay_req, timeout_seconds=60, fee_limit_sat=1000):
    return lnd.StreamReader(net.alice.router.SendPaymentV2(rt.SendPaymentRequest(
        payment_request=pay_req, timeout_seconds=timeout_seconds, fee_limit_sat=fee_limit_sat), timeout=60))


@pytest.fixture
def net(tmp_path):
    n = lnd.Net(tmp_path / "node", "--sim.latency", "800", channel_options=lnd.NO_BDP_PROBE).start()
    yield n
    n.stop()


def _relaunch(net):
    """Starts the killed daemon again on the same datadir and ports."""
    net.close_channels()
    net.start()
    return net


def test_kill9_mid_flight_then_resume(net):
    bob = net.node("bob")
    done = net.alice.send(payment_request=bob.add_invoice(value=1_000).payment_request)[-1]
    assert done.status == lnd.SUCCEEDED
    inv = bob.add_invoice(value=2_000)
    send = _start_send(net, inv.payment_request)
    inflight = send.wait_for(lambda p: any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs))
    watcher = lnd.StreamReader(net.alice.router.TrackPaymentV2(rt.TrackPaymentRequest(payment_hash=inv.r_hash), timeout=60))
    watcher.next()
    net.daemon.kill9()                                  # channels stay open: clients see the crash
    # Open streams die with the process.
    assert send.done.wait(10) and watcher.done.wait(10)
    assert send.error is not None and send.error.code() == grpc.StatusCode.UNAVAILABLE
    assert watcher.error is not None and watcher.error.code() == grpc.StatusCode.UNAVAILABLE

    _relaunch(net)
    listed = net.alice.list_payments(include_incomplete=True, count_total_payments=True)
    assert listed.total_num_payments == 2
    assert [p.payment_hash for p in listed.payments] == [done.payment_hash, inv.r_hash.hex()]
    assert listed.payments[0] == done                        # committed, unchanged
    again = [p for p in listed.payments if p.payment_hash == inv.r_hash.hex()][0]
    assert again.payment_index == inflight.payment_index and again.creation_time_ns == inflight.creation_time_ns
    # Tracking after the restart sees it through to the end.
    tracked = net.alice.track(inv.r_hash)
    final = tracked[-1]
    assert final.status == lnd.SUCCEEDED
    assert all(p.status == lnd.IN_FLIGHT for p in tracked[:-1])
    # The attempt lost with the process failed as UNKNOWN_FAILURE (LND failStaleAttempt); a new
    # attempt paid the invoice, once.
    lost = [h for h in final.htlcs if h.attempt_id == inflight.htlcs[0].attempt_id]
    assert len(lost) == 1 and lost[0].status == lnd.HTLC_FAILED and lost[0].failure.code == UNKNOWN_FAILURE
    assert [h.status for h in final.htlcs].count(lnd.HTLC_SUCCEEDED) == 1
    assert len({h.attempt_id for h in final.htlcs}) == len(final.htlcs)
    looked = net.node("bob").ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash))
    assert looked.state == ln.Invoice.SETTLED and looked.amt_paid_msat == 2_000_000
    assert final.payment_preimage == looked.r_preimage.hex()
    # A TrackPaymentV2 started now sees exactly the terminal state.
    assert net.alice.track(inv.r_hash) == [final]
    # A clean restart changes nothing.
    before = net.alice.list_payments(include_incomplete=True, count_total_payments=True)
    net.stop()
    _relaunch(net)
    after = net.alice.list_payments(include_incomplete=True, count_total_payments=True)
    assert after == before and after.total_num_payments == 2


def test_timeout_passed_while_down_makes_no_new_attempt(net):
    bob = net.node("bob")
    inv = bob.add_invoice(value=3_000)
    send = _start_send(net, inv.payment_request, timeout_seconds=2)
    inflight = send.wait_for(lambda p: any(h.status == lnd.HTLC_IN_FLIGHT for h in p.htlcs))
    net.kill9()
    time.sleep(2.5)                                     # the payment's timeout passes while down
    _relaunch(net)
    final = net.alice.track(inv.r_hash)[-1]
    # LND: no attempt starts after the timeout; the lost attempt fails, the payment fails TIMEOUT.
    assert final.status == lnd.FAILED
    assert final.failure_reason == ln.PaymentFailureReason.Value("FAILURE_REASON_TIMEOUT")
    assert [h.attempt_id for h in final.htlcs] == [inflight.htlcs[0].attempt_id]
    assert final.htlcs[0].failure.code == UNKNOWN_FAILURE
    looked = net.node("bob").ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash))
    assert looked.state == ln.Invoice.OPEN and looked.amt_paid_msat == 0


def test_kill9_while_payee_holds_mpp_parts(net):
    """An MPP payment killed while bob holds some of its parts: after the restart bob has
    canceled those parts, and the resumed payment's new HTLCs must be accepted (not taken for
    replays of the canceled ones because the simulated network numbers HTLCs from 0 again)."""
    bob = net.node("bob")
    inv = bob.add_invoice(value=3_000_000)
    send = _start_send(net, inv.payment_request, fee_limit_sat=100_000)
    accepted = ln.InvoiceHTLCState.Value("ACCEPTED")
    lnd.wait_until(lambda: any(h.state == accepted for h in
                               bob.ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash)).htlcs),
                   timeout=20, interval=0.02, what="bob to hold a part")
    net.daemon.kill9()
    assert send.done.wait(10)
    _relaunch(net)
    final = net.alice.track(inv.r_hash, timeout=60)[-1]
    assert final.status == lnd.SUCCEEDED, final
    settled = [h for h in final.htlcs if h.status == lnd.HTLC_SUCCEEDED]
    assert sum(h.route.hops[-1].amt_to_forward_msat for h in settled) == 3_000_000_000
    looked = net.node("bob").ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash))
    assert looked.state == ln.Invoice.SETTLED and looked.amt_paid_msat == 3_000_000_000
    states = [h.state for h in looked.htlcs]
    assert states.count(ln.InvoiceHTLCState.Value("SETTLED")) == len(settled)
    assert ln.InvoiceHTLCState.Value("CANCELED") in states           # the parts held at the kill
    assert len({(h.chan_id, h.htlc_index) for h in looked.htlcs}) == len(looked.htlcs)


def test_kill9_after_payee_settled(net):
    """Killed after bob settled the HTLC but before the settle travelled back to alice: bob
    has the money, so the payment must end SUCCEEDED with bob's preimage (LND learns the
    fulfil again when the channel re-establishes), not be retried and failed."""
    bob = net.node("bob")
    inv = bob.add_invoice(value=5_000)
    send = _start_send(net, inv.payment_request)
    lnd.wait_until(lambda: bob.ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash)).state == ln.Invoice.SETTLED,
                   timeout=20, interval=0.02, what="bob to settle")
    assert all(p.status == lnd.IN_FLIGHT for p in send.messages)     # alice does not know yet
    net.daemon.kill9()
    assert send.done.wait(10)
    _relaunch(net)
    final = net.alice.track(inv.r_hash, timeout=60)[-1]
    looked = net.node("bob").ln.LookupInvoice(ln.PaymentHash(r_hash=inv.r_hash))
    assert looked.state == ln.Invoice.SETTLED and looked.amt_paid_msat == 5_000_000
    assert final.status == lnd.SUCCEEDED, final
    assert final.payment_preimage == looked.r_preimage.hex()
