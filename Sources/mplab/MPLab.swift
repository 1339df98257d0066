import ArgumentParser

/// The `mplab` command-line tool. It only wires the library modules together; everything it
/// does is available from Swift as well.
@main
struct MPLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mplab",
        abstract: "MetaProxyLab: prove how an RPC proxy behaves and what it costs.",
        discussion: """
            Today mplab can check its runtime (doctor) and decode captured Dubbo, Thrift and \
            LivePacket frames (decode). Workloads, the proxy, the simulator and reports come next.
            """,
        subcommands: [DoctorCommand.self, DecodeCommand.self]
    )
}
