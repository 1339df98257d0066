import MetaProtocol
import MetaProtocolCodecs
import NIOCore

/// Representative frames for each codec with a payload of a given size, built byte by byte so
/// the benchmark depends only on the wire formats.
enum Frames {
    /// The payload sizes the benchmarks sweep: a tiny call, a typical one, a video-sized one.
    static let payloadSizes: [(name: String, bytes: Int)] = [("20B", 20), ("1KB", 1024), ("120KB", 120 * 1024)]

    /// A two-way Dubbo request whose one `String` argument is `size` ASCII characters, with the
    /// attachments a Dubbo 2.7 consumer sends.
    static func dubboRequest(payload size: Int) -> ByteBuffer {
        var body = ByteBuffer()
        for s in ["2.0.2", "org.apache.dubbo.samples.GreetingService", "1.0.0", "sayHello", "Ljava/lang/String;"] {
            hessianString(s, into: &body)
        }
        hessianString(String(repeating: "x", count: size), into: &body)
        body.writeInteger(UInt8(ascii: "H"))
        for (k, v) in [("path", "org.apache.dubbo.samples.GreetingService"), ("interface", "org.apache.dubbo.samples.GreetingService"),
                       ("version", "1.0.0"), ("group", "live"), ("timeout", "3000"), ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")] {
            hessianString(k, into: &body)
            hessianString(v, into: &body)
        }
        body.writeInteger(UInt8(ascii: "Z"))
        var frame = ByteBuffer()
        frame.writeInteger(UInt16(0xdabb))
        frame.writeInteger(UInt8(0xc2))
        frame.writeInteger(UInt8(0))
        frame.writeInteger(UInt64(42))
        frame.writeInteger(UInt32(body.readableBytes))
        frame.writeBuffer(&body)
        return frame
    }

    /// ASCII-only Hessian string, chunked at 32768 characters as Java writers do.
    private static func hessianString(_ s: String, into out: inout ByteBuffer) {
        var rest = Substring(s)
        repeat {
            let chunk = rest.prefix(0x8000)
            rest = rest.dropFirst(chunk.count)
            let n = chunk.utf8.count
            if !rest.isEmpty {
                out.writeInteger(UInt8(ascii: "R")); out.writeInteger(UInt16(n))
            } else if n <= 31 {
                out.writeInteger(UInt8(n))
            } else if n <= 1023 {
                out.writeInteger(UInt8(0x30 + n >> 8)); out.writeInteger(UInt8(n & 0xff))
            } else {
                out.writeInteger(UInt8(ascii: "S")); out.writeInteger(UInt16(n))
            }
            out.writeString(String(chunk))
        } while !rest.isEmpty
    }

    /// A Thrift call `echo(1: binary payload, 2: i32 times)` in strict binary or compact,
    /// framed or not.
    static func thriftCall(payload size: Int, framed: Bool, compact: Bool) -> ByteBuffer {
        var m = ByteBuffer()
        if compact {
            m.writeInteger(UInt8(0x82)); m.writeInteger(UInt8(0x21))  // call, version 1
            m.writeInteger(UInt8(7))  // seq id varint
            m.writeInteger(UInt8(4)); m.writeString("echo")
            m.writeInteger(UInt8(0x18))  // field 1, binary
            varint(UInt64(size), into: &m)
            m.writeRepeatingByte(UInt8(ascii: "x"), count: size)
            m.writeInteger(UInt8(0x15)); m.writeInteger(UInt8(6))  // field 2, i32 3 (zigzag 6)
            m.writeInteger(UInt8(0))
        } else {
            m.writeInteger(UInt32(0x8001_0001))
            m.writeInteger(UInt32(4)); m.writeString("echo")
            m.writeInteger(Int32(7))
            m.writeInteger(UInt8(11)); m.writeInteger(Int16(1)); m.writeInteger(UInt32(size))
            m.writeRepeatingByte(UInt8(ascii: "x"), count: size)
            m.writeInteger(UInt8(8)); m.writeInteger(Int16(2)); m.writeInteger(Int32(3))
            m.writeInteger(UInt8(0))
        }
        guard framed else { return m }
        var f = ByteBuffer()
        f.writeInteger(UInt32(m.readableBytes))
        f.writeBuffer(&m)
        return f
    }

    private static func varint(_ v: UInt64, into out: inout ByteBuffer) {
        var v = v
        while v >= 0x80 { out.writeInteger(UInt8(v & 0x7f | 0x80)); v >>= 7 }
        out.writeInteger(UInt8(v))
    }

    /// A LivePacket request, cmd 153 / sub_cmd 2, with two key/value entries.
    static func livePacketRequest(payload size: Int) -> ByteBuffer {
        var kv = ByteBuffer()
        for (k, v) in [("uid", "1234567"), ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")] {
            kv.writeInteger(UInt8(k.utf8.count)); kv.writeString(k)
            kv.writeInteger(UInt16(v.utf8.count)); kv.writeString(v)
        }
        var f = ByteBuffer()
        f.writeInteger(LivePacketWire.magic)
        f.writeInteger(LivePacketWire.version)
        f.writeInteger(UInt8(0))
        f.writeInteger(UInt32(LivePacketWire.headerSize + kv.readableBytes + size))
        f.writeInteger(UInt64(1))
        f.writeInteger(UInt16(153)); f.writeInteger(UInt16(2)); f.writeInteger(UInt16(0))
        f.writeInteger(UInt16(kv.readableBytes))
        f.writeBuffer(&kv)
        f.writeRepeatingByte(UInt8(ascii: "x"), count: size)
        return f
    }
}
