"""A session of the PyPI library `lnd-grpc-client` (import name `lndgrpc`), unchanged, against two
served nodes: alice pays, bob is paid. Run in its own process (the library registers its own
compiled `lightning.proto` in protobuf's default pool, which would clash with the test stubs).

usage: lnd_grpc_client_session.py ALICE_HOST:PORT ALICE_DIR BOB_HOST:PORT BOB_DIR
(DIR = a node's datadir: tls.cert and data/chain/bitcoin/testnet/admin.macaroon).
Prints one JSON object with what each call returned; exits non-zero on any exception.
"""
import hashlib
import json
import os
import sys
import threading

from lndgrpc import LNDClient
from lndgrpc.common import invoices, router


def client(addr, datadir):
    return LNDClient(addr, cert_filepath=os.path.join(datadir, "tls.cert"),
                     macaroon_filepath=os.path.join(datadir, "data/chain/bitcoin/testnet/admin.macaroon"))


def main():
    alice = client(sys.argv[1], sys.argv[2])
    bob = client(sys.argv[3], sys.argv[4])
    out = {}
    bob_pub = bob.get_info().identity_pubkey

    bal = alice.channel_balance()
    out["channel_balance_local_sat"] = bal.local_balance.sat
    out["list_channels"] = [c.chan_id for c in alice.list_channels().channels]
    routes = alice.query_routes(bob_pub, 1000)
    out["query_routes_last_hop"] = routes.routes[0].hops[-1].pub_key

    # lnrpc SendPaymentSync (the library's send_payment).
    inv = bob.add_invoice(2000, memo="lndgrpc")
    paid = alice.send_payment(inv.payment_request, fee_limit_msat=100_000)
    out["send_payment"] = {"error": paid.payment_error, "preimage_ok": hashlib.sha256(paid.payment_preimage).digest() == inv.r_hash}
    out["subscribe_single_invoice_state"] = bob.subscribe_single_invoice(inv.r_hash).state

    # routerrpc SendPaymentV2 and the v1 SendPayment.
    inv2 = bob.add_invoice(3000)
    updates = alice.send_payment_v2(payment_request=inv2.payment_request, timeout_seconds=30, fee_limit_sat=100)
    out["send_payment_v2_statuses"] = [u.status for u in updates]
    inv3 = bob.add_invoice(1000)
    out["send_payment_v1_states"] = [s.state for s in alice.send_payment_v1(payment_request=inv3.payment_request,
                                                                            timeout_seconds=30, fee_limit_sat=100)]

    # A hold invoice through the library's own compiled invoicesrpc messages and stubs (its
    # add_hold_invoice/settle_invoice helpers are empty in 0.6.0), watched with its
    # subscribe_single_invoice and the payer's TrackPaymentV2.
    pre = os.urandom(32)
    h = hashlib.sha256(pre).digest()
    hold = bob._invoices_stub.AddHoldInvoice(invoices.AddHoldInvoiceRequest(hash=h, value=4000))
    out["hold_open_state"] = bob.subscribe_single_invoice(h).state
    result = {}
    t = threading.Thread(target=lambda: result.update(r=alice.send_payment(hold.payment_request, fee_limit_msat=100_000)))
    t.start()
    accepted = None
    for inv_update in bob._invoices_stub.SubscribeSingleInvoice(invoices.SubscribeSingleInvoiceRequest(r_hash=h)):
        if inv_update.state == 3:  # ACCEPTED
            accepted = inv_update
            break
    out["hold_accepted_state"] = accepted.state
    track = alice._router_stub.TrackPaymentV2(router.TrackPaymentRequest(payment_hash=h))
    out["track_payment_v2_first_status"] = next(iter(track)).status
    track.cancel()
    out["sync_call_still_blocked"] = t.is_alive()
    bob._invoices_stub.SettleInvoice(invoices.SettleInvoiceMsg(preimage=pre))
    t.join(30)
    out["hold_paid_preimage_ok"] = result["r"].payment_preimage == pre
    out["subscribe_single_invoice_after_settle"] = bob.subscribe_single_invoice(h).state
    # lookup_invoice_v2 of lnd-grpc-client 0.6.0 raises NameError before any RPC (a bug of the
    # library); its own stub and compiled message work.
    out["lookup_invoice_v2_state"] = bob._invoices_stub.LookupInvoiceV2(invoices.LookupInvoiceMsg(payment_hash=h)).state
    print(json.dumps(out))


if __name__ == "__main__":
    main()
