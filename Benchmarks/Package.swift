// swift-tools-version: 6.1
//
// Benchmarks for MetaProxyLab, in a package of their own so that `scripts/test` never builds the
// benchmark harness. Run from this folder:
//
//     swift package --disable-sandbox benchmark
//
// (package-benchmark, https://github.com/ordo-one/package-benchmark; its malloc interposer
// counts allocations and allocated bytes per frame.)
import PackageDescription

let package = Package(
    name: "MetaProxyLabBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "MetaProxyLab", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MetaProtocol", package: "MetaProxyLab"),
                .product(name: "MetaProtocolCodecs", package: "MetaProxyLab"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Gate", package: "MetaProxyLab"),
                .product(name: "MetaProtocol", package: "MetaProxyLab"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/CoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SimulationBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MetaProtocol", package: "MetaProxyLab"),
                .product(name: "Simulation", package: "MetaProxyLab"),
                .product(name: "TrafficModel", package: "MetaProxyLab"),
            ],
            path: "Benchmarks/SimulationBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Not a package-benchmark suite: the simulator against SimPy on the same model, in one
        // run (`swift run -c release SimPyComparison`, after scripts/setup installs SimPy).
        .executableTarget(
            name: "SimPyComparison",
            dependencies: [
                .product(name: "MetaProtocol", package: "MetaProxyLab"),
                .product(name: "Simulation", package: "MetaProxyLab"),
                .product(name: "TrafficModel", package: "MetaProxyLab"),
            ],
            path: "Benchmarks/SimPyComparison"
        ),
        // Not a package-benchmark suite: a first measurement of the real proxy against a real
        // mplab (`swift run -c release ProxyProbe ../.build/release/mplab`).
        .executableTarget(
            name: "ProxyProbe",
            dependencies: [
                .product(name: "MetaProtocol", package: "MetaProxyLab"),
                .product(name: "MetaProtocolCodecs", package: "MetaProxyLab"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/ProxyProbe"
        ),
    ]
)
