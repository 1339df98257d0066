import NIOCore

/// Writes the few Hessian 2.0 values the proxy produces itself: strings (error messages,
/// attachment keys and values), small ints (Dubbo response types), null, and untyped maps.
enum Hessian2Writer {
    /// Writes `string` in Hessian's form: length in UTF-16 code units, data in UTF-8 with
    /// characters outside the BMP written as two 3-byte surrogates (CESU-8), which is what Java
    /// Hessian implementations read. Long strings are split into 32768-unit chunks.
    static func writeString(_ string: String, into out: inout ByteBuffer) {
        var utf8 = string
        let isASCII = utf8.withUTF8 { $0.allSatisfy { $0 < 0x80 } }
        if isASCII {
            // One code unit per byte: write straight from the UTF-8 storage.
            utf8.withUTF8 { bytes in
                var offset = 0
                repeat {
                    let n = min(bytes.count - offset, Hessian2Reader.maxChunk)
                    let final = offset + n == bytes.count
                    writeChunkHeader(units: n, final: final, into: &out)
                    out.writeBytes(UnsafeBufferPointer(rebasing: bytes[offset..<(offset + n)]))
                    offset += n
                } while offset < bytes.count
            }
            return
        }
        let units = Array(string.utf16)
        var offset = 0
        repeat {
            var n = min(units.count - offset, Hessian2Reader.maxChunk)
            // Never split a surrogate pair across chunks.
            if offset + n < units.count, UTF16.isLeadSurrogate(units[offset + n - 1]) { n -= 1 }
            let final = offset + n == units.count
            writeChunkHeader(units: n, final: final, into: &out)
            for u in units[offset..<(offset + n)] { writeCESU8(u, into: &out) }
            offset += n
        } while offset < units.count
    }

    private static func writeChunkHeader(units: Int, final: Bool, into out: inout ByteBuffer) {
        if !final {
            out.writeInteger(UInt8(0x52))
            out.writeInteger(UInt16(units))
        } else if units <= 0x1f {
            out.writeInteger(UInt8(units))
        } else if units <= 0x3ff {
            out.writeInteger(UInt8(0x30 + (units >> 8)))
            out.writeInteger(UInt8(units & 0xff))
        } else {
            out.writeInteger(UInt8(0x53))
            out.writeInteger(UInt16(units))
        }
    }

    private static func writeCESU8(_ u: UInt16, into out: inout ByteBuffer) {
        switch u {
        case 0..<0x80:
            out.writeInteger(UInt8(u))
        case 0x80..<0x800:
            out.writeInteger(UInt8(0xc0 | (u >> 6)))
            out.writeInteger(UInt8(0x80 | (u & 0x3f)))
        default:
            out.writeInteger(UInt8(0xe0 | (u >> 12)))
            out.writeInteger(UInt8(0x80 | ((u >> 6) & 0x3f)))
            out.writeInteger(UInt8(0x80 | (u & 0x3f)))
        }
    }

    /// Writes an `int`, in its shortest form.
    /// Bytes ``writeInt(_:into:)`` writes for `value`.
    static func intLength(_ value: Int32) -> Int {
        switch value {
        case -0x10...0x2f: 1
        case -0x800...0x7ff: 2
        case -0x40000...0x3ffff: 3
        default: 5
        }
    }

    static func writeInt(_ value: Int32, into out: inout ByteBuffer) {
        switch value {
        case -0x10...0x2f:
            out.writeInteger(UInt8(Int(value) + 0x90))
        case -0x800...0x7ff:
            out.writeInteger(UInt8(0xc8 + (Int(value) >> 8)))
            out.writeInteger(UInt8(truncatingIfNeeded: value))
        case -0x40000...0x3ffff:
            out.writeInteger(UInt8(0xd4 + (Int(value) >> 16)))
            out.writeInteger(UInt16(truncatingIfNeeded: value))
        default:
            out.writeInteger(UInt8(0x49))
            out.writeInteger(value)
        }
    }

    /// Writes `count` bytes of binary data (filler bytes): short forms up to 1023 bytes, else
    /// 32768-byte chunks, `A` for all but the last, `B` for the last.
    static func writeBinary(count: Int, into out: inout ByteBuffer) {
        if count <= 15 {
            out.writeInteger(UInt8(0x20 + count))
        } else if count <= 1023 {
            out.writeInteger(UInt8(0x34 + count >> 8))
            out.writeInteger(UInt8(count & 0xff))
        } else {
            var left = count
            while left > Hessian2Reader.maxChunk {
                out.writeInteger(UInt8(0x41))
                out.writeInteger(UInt16(Hessian2Reader.maxChunk))
                out.writeRepeatingByte(UInt8(ascii: "x"), count: Hessian2Reader.maxChunk)
                left -= Hessian2Reader.maxChunk
            }
            out.writeInteger(UInt8(0x42))
            out.writeInteger(UInt16(left))
            out.writeRepeatingByte(UInt8(ascii: "x"), count: left)
            return
        }
        out.writeRepeatingByte(UInt8(ascii: "x"), count: count)
    }

    /// Writes an object of a class defined on the spot (definition 0 of the body, so the body
    /// must hold no other definition): `C` name, field count, field names, then the instance.
    static func writeObject(className: String, fields: [(name: String, value: String)], into out: inout ByteBuffer) {
        out.writeInteger(UInt8(0x43))
        writeString(className, into: &out)
        writeInt(Int32(fields.count), into: &out)
        for f in fields { writeString(f.name, into: &out) }
        out.writeInteger(UInt8(0x60))
        for f in fields { writeString(f.value, into: &out) }
    }

    static func writeNull(into out: inout ByteBuffer) { out.writeInteger(UInt8(0x4e)) }
    static func writeUntypedMapStart(into out: inout ByteBuffer) { out.writeInteger(UInt8(0x48)) }
    static func writeEnd(into out: inout ByteBuffer) { out.writeInteger(UInt8(0x5a)) }
}
