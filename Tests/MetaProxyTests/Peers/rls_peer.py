"""A peer for Envoy's rate-limit service API built from Envoy's own protos (xds-protos) on
gRPC's own Python implementation, for MetaProxyLab's interoperability tests.

  rls_peer.py client PORT   ask the service at PORT (mplab's) a fixed set of questions; print
                            one JSON line per answer
  rls_peer.py server        serve the API; print "listening PORT", then one line per request;
                            a descriptor whose value is "deny" is over its limit. Answers carry
                            fields MetaProxyLab's trimmed protos leave out (headers to add,
                            dynamic metadata), which a client must skip.
"""
import json
import sys
from concurrent import futures

import grpc
from envoy.extensions.common.ratelimit.v3 import ratelimit_pb2
from envoy.service.ratelimit.v3 import rls_pb2, rls_pb2_grpc


def descriptor(*entries):
    return ratelimit_pb2.RateLimitDescriptor(
        entries=[ratelimit_pb2.RateLimitDescriptor.Entry(key=k, value=v) for k, v in entries])


def client(port):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=120)
    stub = rls_pb2_grpc.RateLimitServiceStub(channel)
    questions = [
        ("production", [descriptor(("method", "sayHello"))], 0),
        ("production", [descriptor(("method", "sayHello"))], 0),
        ("production", [descriptor(("method", "sayHello"))], 0),
        ("production", [descriptor(("method", "other")), descriptor(("method", "sayHello"))], 0),
        ("production", [descriptor(("tenant", "t1"), ("method", "x"))], 5),
        ("elsewhere", [descriptor(("method", "sayHello"))], 0),
    ]
    for domain, descriptors, hits in questions:
        r = stub.ShouldRateLimit(rls_pb2.RateLimitRequest(domain=domain, descriptors=descriptors, hits_addend=hits), timeout=60)
        print(json.dumps({
            "overall": rls_pb2.RateLimitResponse.Code.Name(r.overall_code),
            "statuses": [{
                "code": rls_pb2.RateLimitResponse.Code.Name(s.code),
                "limit": s.current_limit.requests_per_unit if s.HasField("current_limit") else None,
                "unit": rls_pb2.RateLimitResponse.RateLimit.Unit.Name(s.current_limit.unit) if s.HasField("current_limit") else None,
                "remaining": s.limit_remaining,
            } for s in r.statuses],
        }), flush=True)


class Service(rls_pb2_grpc.RateLimitServiceServicer):
    def ShouldRateLimit(self, request, context):
        entries = [[(e.key, e.value) for e in d.entries] for d in request.descriptors]
        print(json.dumps({"domain": request.domain, "descriptors": entries, "hits": request.hits_addend}), flush=True)
        over = any(v == "deny" for d in entries for _, v in d)
        code = rls_pb2.RateLimitResponse.OVER_LIMIT if over else rls_pb2.RateLimitResponse.OK
        response = rls_pb2.RateLimitResponse(overall_code=code)
        for d in entries:
            status = response.statuses.add()
            status.code = rls_pb2.RateLimitResponse.OVER_LIMIT if any(v == "deny" for _, v in d) else rls_pb2.RateLimitResponse.OK
            status.current_limit.requests_per_unit = 10
            status.current_limit.unit = rls_pb2.RateLimitResponse.RateLimit.SECOND
            status.limit_remaining = 3
        header = response.response_headers_to_add.add()
        header.key, header.value = "x-ratelimit-limit", "10"
        response.dynamic_metadata.fields["peer"].string_value = "python"
        return response


def server():
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    rls_pb2_grpc.add_RateLimitServiceServicer_to_server(Service(), s)
    port = s.add_insecure_port("127.0.0.1:0")
    s.start()
    print(f"listening {port}", flush=True)
    # Ends when its standard input closes (the test is done with it).
    sys.stdin.read()
    s.stop(0)


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(int(sys.argv[2]))
    else:
        server()
