import ArgumentParser

/// The `mplab` command-line tool. It only wires the library modules together; everything it
/// does is available from Swift as well.
@main
struct MPLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mplab",
        abstract: "MetaProxyLab: prove how an RPC proxy behaves and what it costs.",
        discussion: """
            mplab runs workload scripts and writes their reports (run, validate, list, report, \
            compare); runs the MetaProtocol proxy on real sockets (proxy), synthetic upstream \
            servers for it (serve) and load against either (load, overhead, merge); checks its \
            runtime (doctor); and decodes captured Dubbo, Thrift and LivePacket frames (decode).

              mplab run Workloads/quickstart.yaml
            """,
        subcommands: [RunCommand.self, CapacityCommand.self, USLCommand.self, ValidateCommand.self, ListCommand.self, ReportCommand.self, CompareCommand.self, GateCommand.self,
                      ProxyCommand.self, ServeCommand.self, RateLimitServerCommand.self, LoadCommand.self, OverheadCommand.self, MergeCommand.self, DoctorCommand.self, DecodeCommand.self]
    )
}
