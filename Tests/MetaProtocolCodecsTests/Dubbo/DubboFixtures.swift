/// Dubbo 2.x frames written out byte by byte from the specifications, not produced by any
/// implementation, so the codec is checked against the spec rather than against itself.
///
/// - Header (Dubbo 2 protocol spec, dubbo.apache.org "Dubbo2 protocol"): magic 0xdabb; a flag
///   byte (0x80 request, 0x40 two-way, 0x20 event, low 5 bits serialization id, Hessian 2 = 2);
///   a status byte (responses: 20 OK, 70 service error, 100 thread pool exhausted, …); an 8-byte
///   big-endian request id; a 4-byte big-endian body length.
/// - Body (Dubbo's `DubboCodec.encodeRequestData` / `encodeResponseData`), values in Hessian 2.0
///   (caucho.com "Hessian 2.0 Serialization Protocol"): a string of 0–31 UTF-16 units is one
///   byte `0x00+len` then UTF-8; a compact int −16…47 is one byte `0x90+value`; `H` opens an
///   untyped map, `Z` ends it; `N` is null; `C` defines a class (name, field count, field names);
///   `0x60+n` is an instance of class definition n.
enum DubboFixtures {
    /// Two-way request, id 42: `org.demo.Greeter:1.0.0 sayHello(String "world")` with
    /// attachments path, group=blue and a non-string one (retries=2).
    static let request = hex("""
        da bb                           # magic
        c2                              # flags: request | two-way | Hessian 2
        00                              # status (unused in requests)
        00 00 00 00 00 00 00 2a         # request id 42
        00 00 00 6b                     # body length 107
        05 32 2e 30 2e 32               # "2.0.2"             dubbo protocol version
        10 6f 72 67 2e 64 65 6d 6f 2e 47 72 65 65 74 65 72
                                        # "org.demo.Greeter"  service path
        05 31 2e 30 2e 30               # "1.0.0"             service version
        08 73 61 79 48 65 6c 6c 6f      # "sayHello"          method
        12 4c 6a 61 76 61 2f 6c 61 6e 67 2f 53 74 72 69 6e 67 3b
                                        # "Ljava/lang/String;" parameter types
        05 77 6f 72 6c 64               # "world"             the argument
        48                              # H: attachments map
        04 70 61 74 68                  #   "path"
        10 6f 72 67 2e 64 65 6d 6f 2e 47 72 65 65 74 65 72
                                        #   "org.demo.Greeter"
        05 67 72 6f 75 70               #   "group"
        04 62 6c 75 65                  #   "blue"
        07 72 65 74 72 69 65 73         #   "retries"
        92                              #   int 2
        5a                              # Z: end of map
        """)

    /// Offset of the attachments map in ``request`` (header 16 + 6 + 17 + 6 + 9 + 19 + 6).
    static let requestAttachmentsOffset = 79

    /// ``request`` after the mutation `group=green, x-trace=abc`: group replaced in place,
    /// the other entries copied as they were (retries stays an int), x-trace appended, and the
    /// body length grown by 1 ("green") + 12 ("x-trace" "abc") = 120.
    static let requestMutated = hex("""
        da bb c2 00 00 00 00 00 00 00 00 2a
        00 00 00 78                     # body length 120
        05 32 2e 30 2e 32
        10 6f 72 67 2e 64 65 6d 6f 2e 47 72 65 65 74 65 72
        05 31 2e 30 2e 30
        08 73 61 79 48 65 6c 6c 6f
        12 4c 6a 61 76 61 2f 6c 61 6e 67 2f 53 74 72 69 6e 67 3b
        05 77 6f 72 6c 64
        48
        04 70 61 74 68
        10 6f 72 67 2e 64 65 6d 6f 2e 47 72 65 65 74 65 72
        05 67 72 6f 75 70
        05 67 72 65 65 6e               #   "green"
        07 72 65 74 72 69 65 73 92
        07 78 2d 74 72 61 63 65         #   "x-trace"
        03 61 62 63                     #   "abc"
        5a
        """)

    /// OK response to request 42 carrying a value and attachments (response type 4).
    static let responseWithAttachments = hex("""
        da bb                           # magic
        02                              # flags: response, Hessian 2
        14                              # status 20 OK
        00 00 00 00 00 00 00 2a         # request id 42
        00 00 00 1b                     # body length 27
        94                              # int 4: RESPONSE_VALUE_WITH_ATTACHMENTS
        0b 48 65 6c 6c 6f 20 77 6f 72 6c 64
                                        # "Hello world"
        48 05 64 75 62 62 6f 05 32 2e 30 2e 32 5a
                                        # {"dubbo": "2.0.2"}
        """)

    /// OK response without attachments (response type 1), id 43.
    static let responseValue = hex("""
        da bb 02 14 00 00 00 00 00 00 00 2b
        00 00 00 03                     # body length 3
        91                              # int 1: RESPONSE_VALUE
        01 78                           # "x"
        """)

    /// OK status, but the method threw: response type 0 and a RuntimeException object, id 44.
    static let responseException = hex("""
        da bb 02 14 00 00 00 00 00 00 00 2c
        00 00 00 32                     # body length 50
        90                              # int 0: RESPONSE_WITH_EXCEPTION
        43                              # C: class definition #0
        1a 6a 61 76 61 2e 6c 61 6e 67 2e 52 75 6e 74 69 6d 65 45 78 63 65 70 74 69 6f 6e
                                        #   "java.lang.RuntimeException"
        91                              #   1 field
        0d 64 65 74 61 69 6c 4d 65 73 73 61 67 65
                                        #   "detailMessage"
        60                              # instance of definition #0
        04 62 6f 6f 6d                  #   detailMessage = "boom"
        """)

    /// Status 70 (service error): the body is just the error message, id 45.
    static let responseServiceError = hex("""
        da bb 02 46 00 00 00 00 00 00 00 2d
        00 00 00 05
        04 6f 6f 70 73                  # "oops"
        """)

    /// Heartbeat request, id 7: event | two-way | request, body null.
    static let heartbeat = hex("""
        da bb e2 00 00 00 00 00 00 00 00 07 00 00 00 01
        4e                              # N: null
        """)

    /// The heartbeat reply for ``heartbeat``: event, response, status 20, body null.
    static let heartbeatReply = hex("""
        da bb 22 14 00 00 00 00 00 00 00 07 00 00 00 01 4e
        """)

    /// Oneway request (no two-way bit), id 9, method "notify", no parameters, empty attachments.
    static let oneway = hex("""
        da bb 82 00 00 00 00 00 00 00 00 09
        00 00 00 13                     # body length 19
        05 32 2e 30 2e 32               # "2.0.2"
        01 53                           # "S"      service path
        00                              # ""       service version
        06 6e 6f 74 69 66 79            # "notify"
        00                              # ""       no parameters
        48 5a                           # {}
        """)

    /// The local reply to ``request`` for "over_limit: local": status 100, message string.
    static let overLimitReply = hex("""
        da bb 02                        # response, Hessian 2
        64                              # status 100: server thread pool exhausted (busy)
        00 00 00 00 00 00 00 2a
        00 00 00 12                     # body length 18
        11 6f 76 65 72 5f 6c 69 6d 69 74 3a 20 6c 6f 63 61 6c
                                        # "over_limit: local" (17 units)
        """)

    /// Every fixture frame that decodes, in one stream.
    static var all: [[UInt8]] {
        [request, responseWithAttachments, responseValue, responseException, responseServiceError, heartbeat, heartbeatReply, oneway, overLimitReply]
    }
}
