#!/usr/bin/env python3
"""Apache Thrift for Python at both ends of MetaProxyLab's proxy.

    thrift_e2e.py serve FRAMED PROTO [LOG]  an Apache Thrift server for echo.thrift on a free
                                            port; prints "port N", then serves until killed;
                                            with LOG, appends "notify EVENT" to that file for
                                            each oneway notify it receives (the call gets no
                                            answer, so the file is how a test confirms it)
    thrift_e2e.py call PORT FRAMED PROTO    an Apache Thrift client calling through the proxy on
                                            PORT; prints one JSON line of what happened, exits
                                            non-zero when something was not as expected

FRAMED is "framed" or "unframed", PROTO "binary" or "compact". The code for echo.thrift is
generated at run time by the Debian thrift compiler.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
out = tempfile.mkdtemp(prefix="mplab-thrift-e2e-")
# The service the interop tests speak, shared with them.
subprocess.run(["thrift", "--gen", "py", "-out", out, os.path.join(HERE, "..", "..", "InteropTests", "Peers", "echo.thrift")],
               check=True, capture_output=True)
sys.path.insert(0, out)
from interop import Echo, ttypes  # noqa: E402
from thrift.Thrift import TApplicationException  # noqa: E402
from thrift.protocol import TBinaryProtocol, TCompactProtocol  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402


def factories(framed, proto):
    tf = TTransport.TFramedTransportFactory() if framed else TTransport.TBufferedTransportFactory()
    pf = TBinaryProtocol.TBinaryProtocolFactory(strictRead=True, strictWrite=True) if proto == "binary" else TCompactProtocol.TCompactProtocolFactory()
    return tf, pf


class Handler:
    def __init__(self, log=None):
        self.notified = []
        self.log = log

    def echo(self, payload, times):
        if times < 0:
            raise ttypes.Overloaded(reason="busy", retryAfterMs=-times)
        return payload

    def ping(self):
        return None

    def notify(self, event):
        self.notified.append(event)
        if self.log:
            # One whole line per call, closed at once, so the test reading the file never sees
            # half of it.
            with open(self.log, "a") as f:
                f.write("notify %s\n" % event)

    def blob(self, payload):
        return payload


def serve(framed, proto, log=None):
    # The test process's threads block SIGTERM, and a blocked (or ignored) signal passes on
    # through exec; the test stops this server with SIGTERM, so unblock it and take the default
    # action back (else the server outlives the suite).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    tf, pf = factories(framed, proto)
    sock = TSocket.TServerSocket(host="127.0.0.1", port=0)
    sock.listen()
    sock.listen = lambda: None  # serve() listens again, which would pick another free port
    print("port %d" % sock.handle.getsockname()[1], flush=True)
    server = TServer.TThreadedServer(Echo.Processor(Handler(log)), sock, tf, pf, daemon=True)
    server.serve()


def call(port, framed, proto):
    tf, pf = factories(framed, proto)
    sock = TSocket.TSocket("127.0.0.1", port)
    sock.setTimeout(10000)
    trans = tf.getTransport(sock)
    client = Echo.Client(pf.getProtocol(trans))
    trans.open()
    result = {"echo": 0, "declared": 0, "ping": 0, "limited": [], "unroutable": None, "failures": []}
    for size in [0, 20, 1024, 120 * 1024] * 5:
        p = ttypes.Payload(text="x" * size, blob=bytes(range(256)) * (size // 256), numbers=[1, -2, 3], weights={"a": 0.5},
                           tags={1, 2}, flag=True, small=7, switches=[True, False])
        back = client.echo(p, 1)
        if back != p:
            result["failures"].append("echo of %d came back different" % size)
        else:
            result["echo"] += 1
    try:
        client.echo(ttypes.Payload(text="no"), -250)
        result["failures"].append("a declared exception was not raised")
    except ttypes.Overloaded as e:
        result["declared"] += 1 if (e.reason, e.retryAfterMs) == ("busy", 250) else 0
    client.notify("started")  # oneway: no answer
    for _ in range(5):  # the proxy's local limit lets 3 through
        try:
            client.ping()
            result["ping"] += 1
        except TApplicationException as e:
            result["limited"].append([e.type, e.message])
    try:
        client.blob(b"abc")  # no route for blob
    except TApplicationException as e:
        result["unroutable"] = [e.type, e.message]
    trans.close()
    ok = (result["echo"] == 20 and result["declared"] == 1 and result["ping"] == 3 and len(result["limited"]) == 2
          and all(t == TApplicationException.INTERNAL_ERROR and "over_limit" in m for t, m in result["limited"])
          and result["unroutable"] is not None and result["unroutable"][0] == TApplicationException.UNKNOWN_METHOD
          and not result["failures"])
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "serve":
        serve(sys.argv[2] == "framed", sys.argv[3], sys.argv[4] if len(sys.argv) == 5 else None)
    elif len(sys.argv) == 5 and sys.argv[1] == "call":
        sys.exit(call(int(sys.argv[2]), sys.argv[3] == "framed", sys.argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
