"""Startup that cannot finish: a listener whose port is taken ends it with status 1 and the bind
error, like LND's "address already in use", never with a crash, even while clients are already
connecting to the listeners that did bind before it."""
import shutil
import socket
import subprocess
import threading

import harness


def test_a_taken_port_stops_startup_cleanly_while_clients_connect(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", harness.free_port()))
    taken.listen()
    port = taken.getsockname()[1]
    grpc_port, rest_port, kdf_port, bob_port = (harness.free_port() for _ in range(4))
    stop = threading.Event()

    def knock():
        # Connects to the ports bound before the taken one and sends the start of a TLS record, as
        # a client polling for readiness does, so accepts race with the failed startup's teardown.
        while not stop.is_set():
            for p in (grpc_port, rest_port, bob_port):
                try:
                    with socket.create_connection(("127.0.0.1", p), timeout=0.2) as c:
                        c.sendall(b"\x16\x03\x01\x00\x05hello")
                except OSError:
                    pass

    knockers = [threading.Thread(target=knock) for _ in range(3)]
    for t in knockers:
        t.start()
    try:
        # The failure this guards against was a race (22 crashes in 30 starts when it was found),
        # so several starts make one test.
        for i in range(8):
            datadir = tmp_path / f"d{i}"
            p = subprocess.run([harness.PAYTRACKD, "--datadir", str(datadir), "--network", "testnet",
                                "--rpclisten", f"127.0.0.1:{grpc_port}", "--restlisten", f"127.0.0.1:{rest_port}",
                                "--kdf.rpclisten", f"127.0.0.1:{kdf_port}", "--sim.latency", "0",
                                "--serve", f"bob=127.0.0.1:{bob_port}", "--serve-rest", f"bob=127.0.0.1:{port}"],
                               capture_output=True, text=True, timeout=60)
            said = (p.returncode, p.stdout[-3000:], p.stderr[-3000:])
            assert p.returncode == 1, said
            assert p.stderr.endswith(f"\npaytrackd: bind 127.0.0.1:{port}: Address already in use\n"), said
            assert f"[ERR] LTND: startup failed: bind 127.0.0.1:{port}: Address already in use\n" in p.stderr, said
            shutil.rmtree(datadir)
    finally:
        stop.set()
        for t in knockers:
            t.join()
        taken.close()
