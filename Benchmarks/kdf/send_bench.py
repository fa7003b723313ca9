"""send_payment -> succeeded through the simulated network (zero latency): bob makes N invoices
over his Komodo API, alice pays them over hers from 8 threads (keep-alive sessions); the clock
runs from the first send_payment to the moment every KDF record of alice's is `succeeded`
(polled with list_payments_by_filter, status filter)."""
import json, sys, threading, time
import requests

alice, alice_pw, bob, bob_pw, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
local = threading.local()


def call(url, pw, method, params):
    s = getattr(local, "s", None) or requests.Session()
    local.s = s
    r = s.post(url, data=json.dumps({"userpass": pw, "mmrpc": "2.0", "method": "lightning::payments::" + method,
                                     "params": params, "id": 1}), timeout=60)
    return r.json()


invoices = [call(bob, bob_pw, "generate_invoice", {"coin": "tBTC-lightning", "description": f"bench {i}",
                                                    "amount_in_msat": 1000})["result"]["invoice"] for i in range(n)]
errors = []


def worker(chunk):
    for inv in chunk:
        v = call(alice, alice_pw, "send_payment", {"coin": "tBTC-lightning", "payment": {"type": "invoice", "invoice": inv}})
        if "result" not in v:
            errors.append(v)


t0 = time.monotonic()
threads = [threading.Thread(target=worker, args=(invoices[i::8],)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
t_sent = time.monotonic() - t0
while True:
    r = call(alice, alice_pw, "list_payments_by_filter", {"coin": "tBTC-lightning", "filter": {"status": "succeeded"}, "limit": 0})
    if r["result"]["total"] >= n - len(errors):
        break
    time.sleep(0.01)
t_done = time.monotonic() - t0
print(f"{n} payments: accepted in {t_sent:.2f} s, all succeeded after {t_done:.2f} s = {n / t_done:.0f} payments/s "
      f"({len(errors)} refused{': ' + str(errors[0]) if errors else ''})")
