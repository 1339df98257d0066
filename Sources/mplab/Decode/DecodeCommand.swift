import ArgumentParser
import Foundation
import MetaProtocol
import MetaProtocolCodecs
import NIOCore

/// `mplab decode`: shows what the proxy sees in captured bytes.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode a capture of one connection's bytes and print every frame's metadata.",
        discussion: """
            The bytes are read with the same codec the proxy uses, so this shows exactly what \
            routing would match on: message type, request id, sizes, status and attributes. \
            Invalid bytes stop the decode with the offset and the reason, as the proxy would \
            close the connection.

            Example: mplab decode --protocol thrift capture.bin
            """
    )

    @Option(name: .shortAndLong, help: "Protocol of the bytes: \(CodecRegistry.protocolNames.joined(separator: ", ")).")
    var `protocol`: String

    @Flag(help: "Read the file as hexadecimal text (whitespace ignored) instead of raw bytes.")
    var hex = false

    @Argument(help: "File holding the bytes of one connection, in order ('-' for standard input).")
    var file: String

    func run() throws {
        guard var codec = CodecRegistry.makeCodec(named: self.protocol) else {
            throw ValidationError("unknown protocol '\(self.protocol)'; known: \(CodecRegistry.protocolNames.joined(separator: ", "))")
        }
        let data = try readInput()
        var buffer = ByteBuffer(bytes: data)
        var count = 0
        do {
            while let message = try codec.decode(&buffer) {
                count += 1
                print(Self.describe(message, index: count))
            }
        } catch {
            print("error: \(error)")
            throw ExitCode.failure
        }
        if buffer.readableBytes > 0 {
            print("incomplete: \(buffer.readableBytes) trailing bytes do not make a whole frame")
            throw ExitCode.failure
        }
        print("\(count) frame\(count == 1 ? "" : "s"), \(data.count) bytes")
    }

    private func readInput() throws -> [UInt8] {
        let raw: Data
        if file == "-" {
            raw = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            raw = d
        }
        guard hex else { return [UInt8](raw) }
        let text = String(decoding: raw, as: UTF8.self).filter { !$0.isWhitespace }
        guard text.count % 2 == 0 else { throw ValidationError("\(file): odd number of hex digits") }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let b = UInt8(text[index..<next], radix: 16) else {
                throw ValidationError("\(file): '\(text[index..<next])' at hex digit \(text.distance(from: text.startIndex, to: index)) is not hexadecimal")
            }
            bytes.append(b)
            index = next
        }
        return bytes
    }

    static func describe(_ m: Message, index: Int) -> String {
        var line = "#\(index) \(m.type) id=\(m.requestID) header=\(m.headerSize)B body=\(m.bodySize)B"
        if let status = m.status { line += " status=\(status)" }
        if !m.attributes.isEmpty { line += " attributes=\(m.attributes)" }
        return line
    }
}
