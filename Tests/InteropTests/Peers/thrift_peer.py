#!/usr/bin/env python3
"""Apache Thrift for Python as an interop peer for MetaProxyLab's Thrift codec.

    thrift_peer.py produce OUT_DIR   write frames made by Apache Thrift (clients and a server)
                                     for every transport x protocol, plus manifest.json saying
                                     what each holds
    thrift_peer.py consume IN_DIR    read frames MetaProxyLab wrote (manifest.json) with Apache
                                     Thrift and check them; prints one JSON summary line

The code for echo.thrift is generated at run time with the Debian thrift compiler, so the
frames come from Apache Thrift's own generated client and processor, not from code written here.
"""
import json
import logging
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def load_generated():
    out = tempfile.mkdtemp(prefix="mplab-thrift-")
    subprocess.run(["thrift", "--gen", "py", "-out", out, os.path.join(HERE, "echo.thrift")],
                   check=True, capture_output=True)
    sys.path.insert(0, out)
    from interop import Echo, ttypes  # noqa: E402
    return Echo, ttypes


Echo, ttypes = load_generated()
from thrift.Thrift import TApplicationException, TMessageType  # noqa: E402
from thrift.protocol import TBinaryProtocol, TCompactProtocol  # noqa: E402
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol  # noqa: E402
from thrift.transport import TTransport  # noqa: E402

FRAMINGS = [(framed, proto) for framed in (True, False) for proto in ("binary", "compact")]


def framing_name(framed, proto):
    return ("framed" if framed else "unframed") + "-" + proto


def make_protocol(trans, proto):
    if proto == "binary":
        return TBinaryProtocol.TBinaryProtocol(trans, strictRead=True, strictWrite=True)
    return TCompactProtocol.TCompactProtocol(trans)


def writer(framed, proto):
    """A (protocol, finish) pair; finish() returns the bytes written."""
    mem = TTransport.TMemoryBuffer()
    trans = TTransport.TFramedTransport(mem) if framed else mem
    prot = make_protocol(trans, proto)

    def finish(flush=False):
        # Apache Thrift's generated client and processor flush the transport themselves;
        # flushing again would append an empty frame on the framed transport.
        if flush:
            trans.flush()
        return mem.getvalue()

    return prot, finish


def reader(data, framed, proto):
    mem = TTransport.TMemoryBuffer(data)
    trans = TTransport.TFramedTransport(mem) if framed else mem
    return make_protocol(trans, proto)


def sample_payload(size):
    inner = ttypes.Payload(text="inner", numbers=[1], switches=[True])
    return ttypes.Payload(
        text="hello " + "x" * size,
        blob=bytes(range(256)) * (size // 256 + 1),
        numbers=[0, -1, 2**40, -(2**62)],
        weights={"a": 0.5, "b": -1.25},
        tags={1, -2, 300},
        flag=True,
        small=-7,
        nested=inner,
        switches=[True, False, True],
    )


class Handler:
    def echo(self, payload, times):
        if times < 0:
            raise ttypes.Overloaded(reason="too many", retryAfterMs=250)
        if times == 13:
            raise RuntimeError("unlucky")  # becomes TApplicationException INTERNAL_ERROR
        return payload

    def ping(self):
        return None

    def notify(self, event):
        return None


def serve(call_bytes, framed, proto):
    """Runs Apache Thrift's generated processor on one call; returns the reply bytes."""
    iprot = reader(call_bytes, framed, proto)
    oprot, finish = writer(framed, proto)
    Echo.Processor(Handler()).process(iprot, oprot)
    return finish()


def produce(out_dir):
    logging.disable(logging.CRITICAL)  # the processor logs the handler failure we provoke on purpose
    os.makedirs(out_dir, exist_ok=True)
    manifest = []

    def emit(name, data, **expect):
        path = os.path.join(out_dir, name + ".bin")
        with open(path, "wb") as f:
            f.write(data)
        manifest.append(dict(file=name + ".bin", size=len(data), **expect))

    for framed, proto in FRAMINGS:
        fn = framing_name(framed, proto)
        seq = 7 if proto == "binary" else 300  # 300 needs a two-byte varint in compact
        # echo: a call with a rich payload, and the server's success reply
        prot, finish = writer(framed, proto)
        client = Echo.Client(prot, prot)
        client._seqid = seq
        client.send_echo(sample_payload(1000), 3)
        call = finish()
        emit(fn + "-echo-call", call, framing=fn, type="request", method="echo", seqid=seq)
        emit(fn + "-echo-reply", serve(call, framed, proto), framing=fn, type="response", method="echo", seqid=seq,
             status="success")
        # a declared exception
        prot, finish = writer(framed, proto)
        client = Echo.Client(prot, prot)
        client._seqid = seq + 1
        client.send_echo(sample_payload(10), -1)
        call = finish()
        emit(fn + "-echo-declared-exception", serve(call, framed, proto), framing=fn, type="error", method="echo",
             seqid=seq + 1, status="declared:1")
        # the handler failing: TApplicationException INTERNAL_ERROR from the processor
        prot, finish = writer(framed, proto)
        client = Echo.Client(prot, prot)
        client._seqid = seq + 2
        client.send_echo(sample_payload(10), 13)
        call = finish()
        emit(fn + "-echo-internal-error", serve(call, framed, proto), framing=fn, type="error", method="echo",
             seqid=seq + 2, status="application:6")
        # void call and its empty result struct
        prot, finish = writer(framed, proto)
        client = Echo.Client(prot, prot)
        client._seqid = 2**31 - 1  # the largest seq id
        client.send_ping()
        call = finish()
        emit(fn + "-ping-call", call, framing=fn, type="request", method="ping", seqid=2**31 - 1)
        emit(fn + "-ping-reply", serve(call, framed, proto), framing=fn, type="response", method="ping",
             seqid=2**31 - 1, status="success")
        # oneway
        prot, finish = writer(framed, proto)
        client = Echo.Client(prot, prot)
        client._seqid = 0
        client.send_notify("started")
        emit(fn + "-notify-oneway", finish(), framing=fn, type="oneway", method="notify", seqid=0)
        # multiplexed protocol: "Echo:ping"
        prot, finish = writer(framed, proto)
        mux = TMultiplexedProtocol(prot, "Echo")
        client = Echo.Client(mux, mux)
        client._seqid = 42
        client.send_ping()
        emit(fn + "-mux-ping-call", finish(), framing=fn, type="request", method="ping", interface="Echo", seqid=42)
        # unknown method: Apache Thrift's processor answers UNKNOWN_METHOD
        prot, finish = writer(framed, proto)
        prot.writeMessageBegin("nosuch", TMessageType.CALL, 5)
        prot.writeStructBegin("nosuch_args")
        prot.writeFieldStop()
        prot.writeStructEnd()
        prot.writeMessageEnd()
        call = finish(flush=True)
        emit(fn + "-unknown-method-reply", serve(call, framed, proto), framing=fn, type="error", method="nosuch",
             seqid=5, status="application:1")
        # 120 KB payload
        prot, finish = writer(framed, proto)
        client = Echo.Client(prot, prot)
        client._seqid = 9
        client.send_echo(sample_payload(120 * 1024), 1)
        emit(fn + "-echo-call-120k", finish(), framing=fn, type="request", method="echo", seqid=9)

    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def consume(in_dir):
    """Checks frames MetaProxyLab wrote: local error replies and re-numbered calls."""
    with open(os.path.join(in_dir, "manifest.json")) as f:
        manifest = json.load(f)
    checked = 0
    failures = []
    for entry in manifest:
        framed = entry["framing"].startswith("framed")
        proto = entry["framing"].split("-")[1]
        with open(os.path.join(in_dir, entry["file"]), "rb") as f:
            data = f.read()
        try:
            iprot = reader(data, framed, proto)
            if entry["check"] == "local-reply":
                client = Echo.Client(iprot, iprot)
                recv = getattr(client, "recv_" + entry["method"])
                try:
                    recv()
                    raise AssertionError("expected TApplicationException, got a normal reply")
                except TApplicationException as e:
                    if e.type != entry["exceptionType"]:
                        raise AssertionError("exception type %d, expected %d" % (e.type, entry["exceptionType"]))
                    if entry["messageContains"] not in (e.message or ""):
                        raise AssertionError("message %r lacks %r" % (e.message, entry["messageContains"]))
                # the generated client does not check seq ids: read the header again to do it
                name, mtype, seqid = reader(data, framed, proto).readMessageBegin()
                if (name, mtype, seqid) != (entry["method"], TMessageType.EXCEPTION, entry["seqid"]):
                    raise AssertionError("header %r" % ((name, mtype, seqid),))
            elif entry["check"] == "renumbered-call":
                name, mtype, seqid = iprot.readMessageBegin()
                if (name, mtype, seqid) != (entry["method"], TMessageType.CALL, entry["seqid"]):
                    raise AssertionError("header %r" % ((name, mtype, seqid),))
                args = Echo.echo_args()
                args.read(iprot)
                iprot.readMessageEnd()
                if args.payload.text != entry["text"] or args.times != entry["times"]:
                    raise AssertionError("body changed: text %r..., times %r" % (args.payload.text[:20], args.times))
                if not framed and iprot.trans.read(1) != b"":
                    raise AssertionError("bytes left after the message")
            elif entry["check"] == "synthetic-call":
                name, mtype, seqid = iprot.readMessageBegin()
                if (name, mtype, seqid) != (entry["method"], TMessageType.CALL, entry["seqid"]):
                    raise AssertionError("header %r" % ((name, mtype, seqid),))
                args = Echo.blob_args()
                args.read(iprot)
                iprot.readMessageEnd()
                if len(args.payload or b"") != entry["size"]:
                    raise AssertionError("payload of %d bytes, expected %d" % (len(args.payload or b""), entry["size"]))
                if not framed and iprot.trans.read(1) != b"":
                    raise AssertionError("bytes left after the message")
            elif entry["check"] == "synthetic-reply":
                client = Echo.Client(iprot, iprot)
                try:
                    outcome = "success:%d" % len(client.recv_blob())
                except ttypes.Overloaded:
                    outcome = "declared"
                except TApplicationException as e:
                    outcome = "application:%d" % e.type
                if outcome != entry["expect"]:
                    raise AssertionError("read as %s, expected %s" % (outcome, entry["expect"]))
                name, mtype, seqid = reader(data, framed, proto).readMessageBegin()
                if (name, seqid) != (entry["method"], entry["seqid"]):
                    raise AssertionError("header %r" % ((name, mtype, seqid),))
            else:
                raise AssertionError("unknown check " + entry["check"])
            checked += 1
        except Exception as e:  # report every failure, not only the first
            failures.append("%s: %s: %s" % (entry["file"], type(e).__name__, e))
    print(json.dumps({"checked": checked, "failures": failures}))
    return 0 if not failures else 1


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("produce", "consume"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if sys.argv[1] == "produce":
        produce(sys.argv[2])
    else:
        sys.exit(consume(sys.argv[2]))
