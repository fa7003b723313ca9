"""A loopback TCP proxy the tests control, to cut a process off from a server without a firewall:
`blackhole()` keeps every connection open but drops every byte both ways (a network partition:
no RST, no FIN; new connections are accepted and then hear nothing); `heal()` closes the
connections that lost bytes (they are out of step) and forwards again."""
import socket
import threading


class TCPProxy:
    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.cut = False
        self.closed = False
        self.lock = threading.Lock()
        self.pairs = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = (client, upstream)
            with self.lock:
                self.pairs.append(pair)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b, pair), daemon=True).start()

    def _pump(self, src, dst, pair):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self.cut:
                    continue  # dropped: the partition
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._close(pair)

    def _close(self, pair):
        with self.lock:
            if pair in self.pairs:
                self.pairs.remove(pair)
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def blackhole(self):
        self.cut = True

    def heal(self):
        with self.lock:
            pairs = list(self.pairs)
        for p in pairs:
            self._close(p)
        self.cut = False

    def close(self):
        self.closed = True
        self.listener.close()
        self.heal()
