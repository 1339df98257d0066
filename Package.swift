// swift-tools-version: 6.1
//
// MetaProxyLab: a MetaProtocol proxy core, two drivers of it (a deterministic simulator and a
// real-socket proxy), and the instruments that measure them. See README.md for the tour.
import PackageDescription

let package = Package(
    name: "MetaProxyLab",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MetaProtocol", targets: ["MetaProtocol"]),
        .library(name: "MetaProtocolCodecs", targets: ["MetaProtocolCodecs"]),
        .library(name: "TrafficModel", targets: ["TrafficModel"]),
        .library(name: "Results", targets: ["Results"]),
        .library(name: "Workload", targets: ["Workload"]),
        .library(name: "Simulation", targets: ["Simulation"]),
        .library(name: "MetaProxy", targets: ["MetaProxy"]),
        .library(name: "RateLimitService", targets: ["RateLimitService"]),
        .library(name: "LoadGenerator", targets: ["LoadGenerator"]),
        .library(name: "Runner", targets: ["Runner"]),
        .library(name: "Reporting", targets: ["Reporting"]),
        .library(name: "Capacity", targets: ["Capacity"]),
        .library(name: "Gate", targets: ["Gate"]),
        .executable(name: "mplab", targets: ["mplab"]),
        .executable(name: "mplab-probe", targets: ["mplab-probe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        // The sans-IO core: message model, codec contract, routing, balancing, protection,
        // limits, filters, stats. NIOCore only for ByteBuffer.
        .target(
            name: "MetaProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ]
        ),
        // One folder per protocol; adding a protocol touches nothing else.
        .target(
            name: "MetaProtocolCodecs",
            dependencies: [
                "MetaProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // What the world does, sans-IO like the core: distributions, arrivals, call mixes, host
        // behaviour, faults, and the one synthetic host state machine both drivers run.
        .target(
            name: "TrafficModel",
            dependencies: ["MetaProtocol"]
        ),
        // The versioned run result both drivers produce: histograms that merge exactly,
        // counters, time series, provenance.
        .target(
            name: "Results",
            dependencies: [
                "MetaProtocol",
                "TrafficModel",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Workload scripts (what runs, on which driver, and what must hold of the result), and
        // the configuration files they refer to: Aeraki MetaRouter, Istio DestinationRule and
        // ServiceEntry manifests, and MetaProxyLab's own ProxyConfig.
        .target(
            name: "Workload",
            dependencies: [
                "MetaProtocol",
                "TrafficModel",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The discrete-event simulator: the real core under virtual time, synthetic clusters.
        .target(
            name: "Simulation",
            dependencies: [
                "MetaProtocol",
                "TrafficModel",
                "Results",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Envoy's rate-limit service API over gRPC: the client the real proxy's global rate
        // limits ask, and the token-bucket service `mplab ratelimit-server` runs. The message
        // and service code in Generated/ comes from Protos/ (scripts/generate-protos).
        .target(
            name: "RateLimitService",
            dependencies: [
                "MetaProtocol",
                "Workload",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // The real proxy: the core on SwiftNIO, synthetic upstream servers, the admin endpoint.
        .target(
            name: "MetaProxy",
            dependencies: [
                "RateLimitService",
                "MetaProtocol",
                "MetaProtocolCodecs",
                "TrafficModel",
                "Results",
                "Workload",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Real-socket clients: open and closed loop, protocol-level scoring, histograms that
        // merge across threads and shards.
        .target(
            name: "LoadGenerator",
            dependencies: [
                "MetaProtocol",
                "MetaProtocolCodecs",
                "TrafficModel",
                "Results",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Runs a workload on its drivers — the simulator, real sockets, or both side by side —
        // and checks its expectations against what they measured.
        .target(
            name: "Runner",
            dependencies: [
                "MetaProtocol",
                "MetaProtocolCodecs",
                "TrafficModel",
                "Results",
                "Workload",
                "Simulation",
                "LoadGenerator",
            ]
        ),
        // Capacity models: the highest rate that keeps an SLO (an adaptive search on either
        // driver), the Universal Scalability Law fitted to a concurrency sweep, and the local
        // rate limits they recommend, replayed in simulation before anyone applies them.
        .target(
            name: "Capacity",
            dependencies: [
                "MetaProtocol",
                "TrafficModel",
                "Results",
                "Workload",
                "Simulation",
                "LoadGenerator",
                "Runner",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The release gate: deterministic figures (simulation, instructions per request under
        // callgrind, allocations) against a recorded baseline, latency against the baseline build
        // in one run, and a pass / fail / inconclusive verdict with CI's exit codes.
        .target(
            name: "Gate",
            dependencies: [
                "MetaProtocol",
                "MetaProtocolCodecs",
                "Results",
                "Workload",
                "Simulation",
                "LoadGenerator",
                "Runner",
                "Reporting",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Reports from results: Markdown, self-contained HTML with inline SVG charts, CSV, .hgrm.
        .target(
            name: "Reporting",
            dependencies: ["Results"]
        ),
        // jemalloc from Debian's libjemalloc-dev, linked into the executables so that it replaces
        // the C library's malloc and its statistics can be read (`mplab doctor`).
        .systemLibrary(
            name: "CJemalloc",
            pkgConfig: "jemalloc",
            providers: [.apt(["libjemalloc-dev"])]
        ),
        // jemalloc's statistics (mallctl) for the executables that link it.
        .target(
            name: "JemallocStats",
            dependencies: ["CJemalloc"]
        ),
        // The gate's hot-path probes as a program of their own: synchronous from its first line,
        // because valgrind (3.19) cannot run a Swift program whose main is async.
        .executableTarget(
            name: "mplab-probe",
            dependencies: ["Gate", "JemallocStats"]
        ),
        .executableTarget(
            name: "mplab",
            dependencies: [
                "MetaProtocol",
                "MetaProtocolCodecs",
                "TrafficModel",
                "Results",
                "Workload",
                "MetaProxy",
                "RateLimitService",
                "LoadGenerator",
                "Runner",
                "Reporting",
                "Capacity",
                "Gate",
                "JemallocStats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MetaProtocolTests",
            dependencies: [
                "MetaProtocol",
                "Workload",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MetaProxyTests",
            dependencies: [
                "MetaProxy",
                "RateLimitService",
                "MetaProtocol",
                "MetaProtocolCodecs",
                "TrafficModel",
                "Results",
                "Simulation",
                "Workload",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            exclude: ["Peers"]
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: ["Simulation", "MetaProtocol", "MetaProtocolCodecs", "TrafficModel", "Results"]
        ),
        .testTarget(
            name: "LoadGeneratorTests",
            dependencies: [
                "LoadGenerator",
                "MetaProxy",
                "MetaProtocol",
                "MetaProtocolCodecs",
                "TrafficModel",
                "Results",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "TrafficModelTests",
            dependencies: ["TrafficModel", "MetaProtocol"]
        ),
        .testTarget(
            name: "ResultsTests",
            dependencies: ["Results", "MetaProtocol", "TrafficModel"]
        ),
        .testTarget(
            name: "WorkloadTests",
            dependencies: ["Workload", "MetaProtocol", "TrafficModel"]
        ),
        .testTarget(
            name: "RunnerTests",
            dependencies: ["Runner", "Reporting", "Workload", "Results", "TrafficModel", "MetaProtocol"]
        ),
        .testTarget(
            name: "CapacityTests",
            dependencies: ["Capacity", "Reporting", "Runner", "Workload", "Results", "Simulation", "TrafficModel", "MetaProtocol"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "GateTests",
            dependencies: ["Gate", "Workload", "MetaProtocol"]
        ),
        .testTarget(
            name: "MetaProtocolCodecsTests",
            dependencies: [
                "MetaProtocol",
                "MetaProtocolCodecs",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Interoperability with implementations nobody here wrote (Apache Thrift for Python).
        .testTarget(
            name: "InteropTests",
            dependencies: [
                "MetaProtocol",
                "MetaProtocolCodecs",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["Peers"]
        ),
    ]
)
