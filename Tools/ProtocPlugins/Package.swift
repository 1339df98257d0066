// swift-tools-version: 6.1
//
// The two protoc plugins that generate Sources/RateLimitService/Generated from Protos/:
// swift-protobuf's message generator and grpc-swift-protobuf's service generator, at the
// versions the project links. Built only by scripts/generate-protos (never by scripts/test):
// the generated code is committed, because building swift-protobuf's plugin takes minutes.
import PackageDescription

let package = Package(
    name: "ProtocPlugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
    ],
    targets: []
)
