import Foundation
import Testing

/// Option values that used to trap the process (a `Double` converted past `Int64`) or that were
/// quietly bent into something else (`-5` read as port 5) are refused with the option's name and
/// the usage status, 64, before anything starts.
@Suite("mplab refuses option values it cannot honour")
struct CommandLineValueTests {
    static let config = clone.appending(path: "Workloads/configs/local-livepacket.yaml").path

    @Test(arguments: [
        (["proxy", "--config", config, "--idle-timeout", "inf"], "--idle-timeout inf: expected seconds from 0 to 31536000"),
        (["proxy", "--config", config, "--idle-timeout", "1e300"], "--idle-timeout 1e+300: expected seconds from 0 to 31536000"),
        (["proxy", "--config", config, "--drain-timeout", "nan"], "--drain-timeout nan: expected seconds"),
        (["proxy", "--config", config, "--idle-timeout=-1"], "--idle-timeout -1.0: expected seconds"),
        (["proxy", "--config", config, "--max-connections", "0"], "--max-connections must be at least 1"),
        (["proxy", "--config", config, "--admin", ":15000"], "--admin :15000 listens on every interface"),
        (["proxy", "--config", config, "--admin", "0.0.0.0:15000"], "--admin 0.0.0.0:15000 listens on every interface"),
        (["proxy", "--config", config, "--admin-token", "two words"], "--admin-token: expected a token of printable ASCII"),
        (["serve", "--protocol", "livepacket", "--ports=-5"], "--ports: \"-5\" is not a port"),
        (["serve", "--protocol", "livepacket", "--ports", "20881-"], "--ports: \"20881-\" is not a port"),
        (["serve", "--protocol", "livepacket", "--ports", "20881,,20882"], "--ports: \"\" is not a port"),
        (["serve", "--protocol", "livepacket", "--ports", "20890-20881"], "--ports: \"20890-20881\" is not a port"),
        (["serve", "--protocol", "livepacket", "--ports", "70000"], "--ports: \"70000\" is not a port"),
        (["serve", "--protocol", "livepacket", "--phase", "1e300:close=true"], "--phase 1e+300: expected seconds"),
        (["load", "--protocol", "livepacket", "--target", "127.0.0.1:1", "--duration", "1e300s"], "--duration 1e+300: expected seconds"),
        (["load", "--protocol", "livepacket", "--target", "127.0.0.1:1", "--rate", "inf"], "--rate inf: expected calls per second"),
    ])
    func isRefusedByName(_ arguments: [String], _ message: String) throws {
        let outcome = try RunCommandTests.mplab(arguments)
        #expect(outcome.status == 64, "exit status \(outcome.status) (a trap is 132 or 133, a signal above 128): \(outcome.errors)")
        #expect(outcome.errors.contains(message), "\(outcome.errors)")
    }

    @Test func soundValuesGetPastTheChecks() throws {
        // Past option checking, the missing file is what stops it.
        let outcome = try RunCommandTests.mplab(["proxy", "--config", "/nonexistent/mplab.yaml", "--idle-timeout", "0", "--drain-timeout", "0.5",
                                                 "--max-connections", "1", "--admin", "127.0.0.1:0", "--event-loops", "1"])
        #expect(outcome.status == 64 && outcome.errors.contains("cannot read /nonexistent/mplab.yaml"), "\(outcome.status): \(outcome.errors)")
    }
}
