/// Walks a Thrift message body (its top-level struct) to its final STOP without building any
/// value, validating types and lengths on the way.
///
/// It keeps its own stack instead of recursing, so nesting costs no call stack, and it can stop
/// where the bytes run out and resume there when more arrive: finding the end of an unframed
/// message costs O(its size) however the message is split across reads. Each step reads one
/// whole unit (a field header, a value, a container header) before changing any state, so a
/// step cut short is simply retried from the same position.
struct ThriftBodyWalker {
    private enum Container {
        case structure(lastFieldID: Int16)
        case list(elementType: UInt8, remaining: Int)
        case map(keyType: UInt8, valueType: UInt8, remaining: Int, valueNext: Bool)
    }

    /// Containers deeper than this are refused.
    static let maxDepth = 64

    let compact: Bool
    /// Where the walk stands, relative to the frame start.
    private(set) var position: Int
    private var stack: [Container] = []
    /// A value of this type starts at ``position``.
    private var pendingType: UInt8?
    /// The id of the top-level struct's first field (nil when it is empty).
    private(set) var firstFieldID: Int16?
    /// The top-level i32 field 2 (`TApplicationException.type`), when the walk records it.
    private(set) var applicationExceptionType: Int32?
    private let recordsExceptionType: Bool
    private var sawFirstField = false

    /// A walk of the body starting at `start`; `recordsExceptionType` for exception messages.
    /// `reusing` hands over a finished walker's stack storage (moved, not shared), so a
    /// connection's walks allocate only once.
    init(compact: Bool, start: Int, recordsExceptionType: Bool, reusing previous: inout ThriftBodyWalker?) {
        self.compact = compact
        self.position = start
        self.recordsExceptionType = recordsExceptionType
        if previous != nil {
            swap(&stack, &previous!.stack)
            stack.removeAll(keepingCapacity: true)
        }
        stack.append(.structure(lastFieldID: 0))
    }

    /// Walks from ``position`` towards `end`. Returns true once the body's final STOP is read.
    /// When the bytes run out it returns false — or, if `more` is false (a complete frame),
    /// throws the `truncated` error; `shortfallEnd` then says how far the bytes must reach.
    mutating func walk(_ bytes: UnsafeRawBufferPointer, end: Int, more: Bool, shortfallEnd: inout Int) throws(ReadError) -> Bool {
        var reader = ThriftReader(bytes: bytes, from: position, to: end, compact: compact)
        while true {
            do {
                if try step(&reader) { position = reader.index; return true }
                position = reader.index
            } catch {
                shortfallEnd = reader.shortfallEnd
                guard case .truncated = error, more else { throw error }
                return false
            }
        }
    }

    /// One unit of work; true when the walk is complete.
    private mutating func step(_ r: inout ThriftReader) throws(ReadError) -> Bool {
        if let type = pendingType {
            try startValue(type, &r)
            pendingType = nil
            return false
        }
        switch stack[stack.count - 1] {
        case .structure(var lastID):
            let topLevel = stack.count == 1
            guard let field = try r.readFieldHeader(lastID: &lastID) else {
                stack.removeLast()
                return stack.isEmpty
            }
            if topLevel && !sawFirstField {
                sawFirstField = true
                firstFieldID = field.id
            }
            if compact && (field.type == ThriftWire.CompactType.boolTrue || field.type == ThriftWire.CompactType.boolFalse) {
                // A compact struct's bool lives in the field header.
            } else if topLevel && recordsExceptionType && field.id == 2 && field.type == (compact ? ThriftWire.CompactType.i32 : ThriftWire.BinaryType.i32) {
                applicationExceptionType = compact ? Int32(truncatingIfNeeded: ThriftReader.zigzag(try r.readVarint("i32", maxBytes: 5))) : try r.readInt32BE("i32")
            } else {
                pendingType = field.type
            }
            stack[stack.count - 1] = .structure(lastFieldID: lastID)
        case .list(let elementType, let remaining):
            if remaining == 0 {
                stack.removeLast()
                return false
            }
            if let width = fixedWidth(elementType) {
                // Skip as many whole elements as the bytes hold, in one step.
                let count = min(remaining, (r.end - r.index) / width)
                try r.skip(max(count, 1) * width, "list elements")
                stack[stack.count - 1] = .list(elementType: elementType, remaining: remaining - max(count, 1))
            } else {
                stack[stack.count - 1] = .list(elementType: elementType, remaining: remaining - 1)
                pendingType = elementType
            }
        case .map(let keyType, let valueType, let remaining, let valueNext):
            if valueNext {
                stack[stack.count - 1] = .map(keyType: keyType, valueType: valueType, remaining: remaining - 1, valueNext: false)
                pendingType = valueType
            } else if remaining == 0 {
                stack.removeLast()
            } else {
                stack[stack.count - 1] = .map(keyType: keyType, valueType: valueType, remaining: remaining, valueNext: true)
                pendingType = keyType
            }
        }
        return false
    }

    /// Bytes per element for types whose every value has the same size.
    private func fixedWidth(_ type: UInt8) -> Int? {
        if compact {
            switch type {
            case ThriftWire.CompactType.boolTrue, ThriftWire.CompactType.boolFalse, ThriftWire.CompactType.byte: return 1
            case ThriftWire.CompactType.double: return 8
            case ThriftWire.CompactType.uuid: return 16
            default: return nil
            }
        }
        switch type {
        case ThriftWire.BinaryType.bool, ThriftWire.BinaryType.byte: return 1
        case ThriftWire.BinaryType.i16: return 2
        case ThriftWire.BinaryType.i32: return 4
        case ThriftWire.BinaryType.i64, ThriftWire.BinaryType.double: return 8
        case ThriftWire.BinaryType.uuid: return 16
        default: return nil
        }
    }

    private mutating func push(_ container: Container, at: Int) throws(ReadError) {
        guard stack.count < Self.maxDepth else { throw .tooDeep(limit: Self.maxDepth, at: at) }
        stack.append(container)
    }

    /// Reads a scalar whole, or a container's header (and pushes the container).
    private mutating func startValue(_ type: UInt8, _ r: inout ThriftReader) throws(ReadError) {
        compact ? try startCompact(type, &r) : try startBinary(type, &r)
    }

    private mutating func startBinary(_ type: UInt8, _ r: inout ThriftReader) throws(ReadError) {
        typealias T = ThriftWire.BinaryType
        let at = r.index
        if let width = fixedWidth(type) {
            try r.skip(width, "value")
            return
        }
        switch type {
        case T.string:
            try r.skip(Int(try r.readInt32BE("string length")), "string")
        case T.structure:
            try push(.structure(lastFieldID: 0), at: at)
        case T.map:
            let keyType = try r.readByte("map key type"), valueType = try r.readByte("map value type")
            let count = Int(try r.readInt32BE("map size"))
            guard count >= 0 else { throw .invalid("map size \(count)", at: at + 2) }
            if count > 0 {
                try checkBinaryType(keyType, at: at)
                try checkBinaryType(valueType, at: at + 1)
            }
            try push(.map(keyType: keyType, valueType: valueType, remaining: count, valueNext: false), at: at)
        case T.set, T.list:
            let elementType = try r.readByte("list element type")
            let count = Int(try r.readInt32BE("list size"))
            guard count >= 0 else { throw .invalid("list size \(count)", at: at + 1) }
            if count > 0 { try checkBinaryType(elementType, at: at) }
            try push(.list(elementType: elementType, remaining: count), at: at)
        default:
            throw .unknownType("binary field type", code: Int(type), at: at)
        }
    }

    private func checkBinaryType(_ type: UInt8, at: Int) throws(ReadError) {
        typealias T = ThriftWire.BinaryType
        switch type {
        case T.bool, T.byte, T.double, T.i16, T.i32, T.i64, T.string, T.structure, T.map, T.set, T.list, T.uuid: return
        default: throw .unknownType("binary element type", code: Int(type), at: at)
        }
    }

    private mutating func startCompact(_ type: UInt8, _ r: inout ThriftReader) throws(ReadError) {
        typealias T = ThriftWire.CompactType
        let at = r.index
        if let width = fixedWidth(type) {
            try r.skip(width, "value")
            return
        }
        switch type {
        case T.i16: _ = try r.readVarint("i16", maxBytes: 3)
        case T.i32: _ = try r.readVarint("i32", maxBytes: 5)
        case T.i64: _ = try r.readVarint("i64", maxBytes: 10)
        case T.binary:
            let length = try r.readVarint("binary length", maxBytes: 5)
            guard length <= Int32.max else { throw .invalid("binary length \(length)", at: at) }
            try r.skip(Int(length), "binary")
        case T.structure:
            try push(.structure(lastFieldID: 0), at: at)
        case T.list, T.set:
            let header = try r.readByte("list header")
            var count = UInt64(header >> 4)
            if count == 15 { count = try r.readVarint("list size", maxBytes: 5) }
            guard count <= Int32.max else { throw .invalid("list size \(count)", at: at) }
            let elementType = header & 0x0f
            if count > 0 { try checkCompactType(elementType, at: at) }
            try push(.list(elementType: elementType, remaining: Int(count)), at: at)
        case T.map:
            let count = try r.readVarint("map size", maxBytes: 5)
            guard count <= Int32.max else { throw .invalid("map size \(count)", at: at) }
            var keyType: UInt8 = 0, valueType: UInt8 = 0
            if count > 0 {
                let types = try r.readByte("map types")
                keyType = types >> 4
                valueType = types & 0x0f
                try checkCompactType(keyType, at: at)
                try checkCompactType(valueType, at: at)
            }
            try push(.map(keyType: keyType, valueType: valueType, remaining: Int(count), valueNext: false), at: at)
        default:
            throw .unknownType("compact field type", code: Int(type), at: at)
        }
    }

    private func checkCompactType(_ type: UInt8, at: Int) throws(ReadError) {
        guard (ThriftWire.CompactType.boolTrue...ThriftWire.CompactType.uuid).contains(type) else {
            throw .unknownType("compact element type", code: Int(type), at: at)
        }
    }
}
