"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol with websocket-client:
open a page, evaluate expressions in it, take screenshots. Real network I/O (WebSockets, fetches)
runs in real time, which `--dump-dom` with a virtual time budget does not wait for."""
import base64
import json
import re
import shutil
import subprocess
import time
import urllib.request

import websocket

import harness


class Browser:
    def __init__(self, profile_dir, width=1280, height=800):
        exe = shutil.which("chromium")
        assert exe, "Scripts/bootstrap installs Debian's chromium"
        self.port = harness.free_port()
        self.proc = subprocess.Popen([exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
                                      f"--remote-debugging-port={self.port}", "--remote-allow-origins=*",
                                      f"--user-data-dir={profile_dir}", f"--window-size={width},{height}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        targets = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=2) as r:
                    targets = [t for t in json.load(r) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                time.sleep(0.2)
        assert targets, "chromium did not start its DevTools endpoint"
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.events = []    # DevTools events seen while waiting for answers (the newest 2,000)
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if "method" in m and "id" not in m:
                self.events = self.events[-1999:] + [m]
            if m.get("id") == my:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})

    def open(self, url):
        self.call("Page.navigate", url=url)

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def wait_for(self, expression, timeout=30, interval=0.1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                v = self.eval(expression)
            except RuntimeError:
                v = None
            if v:
                return v
            time.sleep(interval)
        raise TimeoutError(f"browser: {expression} stayed false")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
