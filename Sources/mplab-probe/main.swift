// mplab-probe: one hot-path probe of `mplab gate`, run under callgrind (instructions) or
// reading jemalloc's counters (allocations); prints one JSON line. mplab gate runs it from the
// folder its own executable is in.
//
//   mplab-probe core-request --iterations 2000 [--allocations] [--inject-copy] [--inject-work N]
//
// Plain top-level code, not an argument-parser command: AsyncParsableCommand's async main is
// what valgrind 3.19 cannot run, and the gate is this program's only caller.
import Foundation
import Gate
import JemallocStats

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mplab-probe: \(message)\n".utf8))
    exit(1)
}

var arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.popFirst(), !name.hasPrefix("-") else {
    fail("usage: mplab-probe PROBE [--iterations N] [--allocations] [--inject-copy] [--inject-work N]; probes: \(HotPathProbe.names.joined(separator: ", "))")
}
guard let probe = HotPathProbe.named(name) else { fail("no probe \(name); probes: \(HotPathProbe.names.joined(separator: ", "))") }
var iterations = 2_000, allocations = false, injection = HotPathProbe.Injection()
while let flag = arguments.popFirst() {
    switch flag {
    case "--iterations":
        guard let n = arguments.popFirst().flatMap(Int.init), n > 0 else { fail("--iterations needs a positive count") }
        iterations = n
    case "--allocations": allocations = true
    case "--inject-copy": injection.copyFrames = true
    case "--inject-work":
        guard let n = arguments.popFirst().flatMap(Int.init), n >= 0 else { fail("--inject-work needs a count") }
        injection.extraWork = n
    default: fail("unknown option \(flag)")
    }
}

typealias Totals = (requests: UInt64, bytes: UInt64)
/// jemalloc's totals so far, with this thread's cache flushed into them first.
func totals() -> Totals? {
    Jemalloc.flushThreadCache()
    Jemalloc.refresh()
    return Jemalloc.requestTotals()
}
// Reading the totals allocates too (the statistics' names): what one reading costs is measured
// by two readings back to back and taken off, so that a request's figure is its own.
var reading: Totals?, before: Totals?, after: Totals?
probe.run(iterations: iterations, warmUp: max(100, iterations / 5), injection: injection,
          between: {
              // The first reading sets up what later ones reuse; the next two are alike.
              guard allocations, totals() != nil, let first = totals() else { return }
              before = totals()
              reading = before.map { ($0.requests - first.requests, $0.bytes - first.bytes) }
          },
          after: {
              if allocations { after = totals() }
          })
var report = ProbeReport(probe: name, iterations: iterations)
if allocations {
    guard let before, let after, let reading else { fail("jemalloc's statistics are not available (mplab doctor)") }
    report.allocations = after.requests - before.requests - reading.requests
    report.bytes = after.bytes - before.bytes - reading.bytes
}
let encoder = JSONEncoder()
encoder.outputFormatting = .sortedKeys
print(String(decoding: try encoder.encode(report), as: UTF8.self))
