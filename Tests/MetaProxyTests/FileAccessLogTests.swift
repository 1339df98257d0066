import Foundation
import MetaProtocol
import NIOConcurrencyHelpers
import Testing

@testable import MetaProxy

/// The access log costs lines, never the process: every listener's loop may write to it at
/// once, a failed write drops and counts its lines, and a disk that falls behind holds a
/// bounded backlog. Every line logged is written or counted as dropped.
@Suite("Access log: shared, failing and falling behind", .serialized)
struct FileAccessLogTests {
    static func entry(_ id: Int, padding: Int = 0) -> AccessLogEntry {
        AccessLogEntry(start: Timestamp(nanoseconds: Int64(id)), duration: .microseconds(1500), downstream: DownstreamID(UInt64(id % 7)),
                       requestID: UInt64(id), operation: "demo.Greeter/sayHello" + String(repeating: "x", count: padding), route: "greet",
                       cluster: "svc", host: "10.0.0.1:20880", tries: 1, outcome: .response(ResponseStatus(category: .success, code: 20)), traceID: nil)
    }

    @Test func loopsLoggingAtOnceLoseNoLine() async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "mplab-access-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try FileAccessLog(path: path)
        // Four threads, as four listeners' loops would, each logging and flushing.
        let threads = 4, each = 20_000
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<each {
                log.log(Self.entry(t * each + i))
                if i % 1000 == 999 { log.flush() }
            }
        }
        log.flush()
        log.drain()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == threads * each)
        #expect(Set(lines.map { $0.split(separator: " ")[0] }).count == threads * each)  // each whole, none twice
        #expect(lines.allSatisfy { $0.hasSuffix("trace=-") })
        #expect(log.droppedLines == 0 && log.writeErrors == 0)
    }

    @Test func aFullDiskDropsAndCountsLines() throws {
        // Every write to /dev/full fails with ENOSPC.
        let log = try FileAccessLog(path: "/dev/full")
        for i in 0..<1200 { log.log(Self.entry(i)) }  // two batches of 512 handed over as they fill
        log.flush()
        log.drain()
        #expect(log.droppedLines == 1200)
        #expect(log.writeErrors == 3)
    }

    @Test func aReaderThatWentAwayDropsAndCountsLines() throws {
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        let log = FileAccessLog(handle: pipe.fileHandleForWriting, path: "a pipe")
        for i in 0..<10 { log.log(Self.entry(i)) }
        log.flush()
        log.drain()
        #expect(log.droppedLines == 10 && log.writeErrors == 1)
    }

    @Test func aDiskThatFallsBehindHoldsABoundedBacklog() throws {
        // Nobody reads the pipe at first: the writer blocks once its 64 KiB are full, and what
        // is handed over after that waits, up to the bound.
        let pipe = Pipe()
        let log = FileAccessLog(handle: pipe.fileHandleForWriting, path: "a pipe")
        let count = 100_000
        for i in 0..<count { log.log(Self.entry(i, padding: 500)) }  // about 60 MB, 16 MiB of it kept
        log.flush()
        let dropped = log.droppedLines
        #expect(dropped > count / 2, "\(dropped) dropped")
        // Read everything that was kept; then every line is accounted for.
        let read = NIOLockedValueBox(0)
        let reader = Thread {
            while true {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                read.withLockedValue { $0 += chunk.count(where: { $0 == UInt8(ascii: "\n") }) }
            }
        }
        reader.start()
        log.drain()
        try pipe.fileHandleForWriting.close()
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        #expect(read.withLockedValue { $0 } + log.droppedLines == count)
        #expect(log.droppedLines == dropped)
        #expect(log.writeErrors == 0)
    }
}
