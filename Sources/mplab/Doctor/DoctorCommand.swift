import ArgumentParser
import JemallocStats
import MetaProtocolCodecs

/// `mplab doctor`: checks that this build runs as the measurements expect.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the runtime: the allocator in use and its live statistics.",
        discussion: """
            The proxy and load generator must run on jemalloc: its statistics give the \
            allocations and bytes per request in every report. doctor proves jemalloc serves \
            malloc (an 8 MiB probe allocation must show up in jemalloc's own counters) and exits \
            non-zero when it does not.
            """
    )

    func run() throws {
        guard let version = Jemalloc.version else {
            print("allocator: not jemalloc (mallctl(\"version\") failed)")
            throw ExitCode.failure
        }
        print("allocator: jemalloc \(version)")
        guard let grew = Jemalloc.mallocProbe() else {
            print("  jemalloc is linked but was built without statistics (config.stats is false)")
            throw ExitCode.failure
        }
        let probe = 8 << 20
        guard grew >= probe else {
            print("  malloc is NOT served by jemalloc: an 8 MiB malloc moved stats.allocated by \(grew) bytes")
            throw ExitCode.failure
        }
        print("  malloc served by jemalloc: yes (an 8 MiB malloc raised stats.allocated by \(grew) bytes)")
        guard let s = Jemalloc.snapshot() else {
            print("  statistics unavailable")
            throw ExitCode.failure
        }
        print("  allocated: \(formatBytes(s.allocated))")
        print("  active:    \(formatBytes(s.active))")
        print("  resident:  \(formatBytes(s.resident))")
        print("  mapped:    \(formatBytes(s.mapped))")
        print("  metadata:  \(formatBytes(s.metadata))")
        print("codecs: \(CodecRegistry.protocolNames.joined(separator: ", "))")
    }

    private func formatBytes(_ n: Int) -> String {
        let mib = Double(n) / 1_048_576
        return "\(n) bytes (\((mib * 100).rounded() / 100) MiB)"
    }
}
