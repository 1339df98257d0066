import CJemalloc

#if canImport(Glibc)
import Glibc
#endif

/// Reads jemalloc's statistics through `mallctl`.
///
/// The executables link jemalloc so that it replaces the C library's `malloc`; these readings
/// are how `mplab doctor` (and later the proxy's `/memory` endpoint) prove it and report memory.
public enum Jemalloc {
    /// jemalloc's version string, e.g. `5.3.0-0-g54eaed1…`.
    public static var version: String? {
        var pointer: UnsafePointer<CChar>? = nil
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &pointer, &size, nil, 0) == 0, let pointer else { return nil }
        return String(cString: pointer)
    }

    /// Returns this thread's cached allocations to its arena, which also merges the cache's
    /// request counts into the arena's statistics: until then, requests the thread cache served
    /// are not counted, so a reading around a stretch of code would come out short.
    public static func flushThreadCache() {
        _ = mallctl("thread.tcache.flush", nil, nil, nil, 0)
    }

    /// Makes the statistics current (jemalloc caches them until the epoch advances).
    public static func refresh() {
        var epoch: UInt64 = 1
        _ = mallctl("epoch", nil, nil, &epoch, MemoryLayout<UInt64>.size)
    }

    /// A `size_t` statistic such as `stats.allocated`, or nil when jemalloc does not have it.
    public static func statistic(_ name: String) -> Int? {
        var value = 0
        var size = MemoryLayout<Int>.size
        guard mallctl(name, &value, &size, nil, 0) == 0 else { return nil }
        return value
    }

    /// Whether jemalloc was built with statistics (`config.stats`).
    public static var hasStatistics: Bool {
        var value = false
        var size = MemoryLayout<Bool>.size
        return mallctl("config.stats", &value, &size, nil, 0) == 0 && value
    }

    /// The current memory statistics.
    public static func snapshot() -> Snapshot? {
        refresh()
        guard let allocated = statistic("stats.allocated"), let active = statistic("stats.active"),
            let resident = statistic("stats.resident"), let mapped = statistic("stats.mapped"),
            let metadata = statistic("stats.metadata")
        else { return nil }
        return Snapshot(allocated: allocated, active: active, resident: resident, mapped: mapped, metadata: metadata)
    }

    /// Bytes jemalloc's `stats.allocated` grew by while one `malloc` of `probeSize` bytes was
    /// live. When jemalloc is not the process's `malloc`, this stays near zero.
    public static func mallocProbe(probeSize: Int = 8 << 20) -> Int? {
        guard hasStatistics else { return nil }
        refresh()
        guard let before = statistic("stats.allocated") else { return nil }
        guard let block = malloc(probeSize) else { return nil }
        // Passing the block to a function the optimizer cannot see into keeps it from removing
        // the malloc/free pair, which it otherwise does in release builds.
        guard malloc_usable_size(block) >= probeSize else { free(block); return nil }
        refresh()
        let after = statistic("stats.allocated") ?? before
        free(block)
        return after - before
    }

    /// A `uint64_t` statistic (the cumulative counters are).
    public static func counter(_ name: String) -> UInt64? {
        var value: UInt64 = 0
        var size = MemoryLayout<UInt64>.size
        guard mallctl(name, &value, &size, nil, 0) == 0 else { return nil }
        return value
    }

    /// An `unsigned` setting such as `arenas.nbins`.
    public static func unsigned(_ name: String) -> UInt32? {
        var value: UInt32 = 0
        var size = MemoryLayout<UInt32>.size
        guard mallctl(name, &value, &size, nil, 0) == 0 else { return nil }
        return value
    }

    /// Allocations requested since the process started, and their bytes by size class (exact to
    /// the size class), over all arenas: each small size class's and each large one's requests
    /// times its size. Call ``refresh()`` first.
    public static func requestTotals() -> (requests: UInt64, bytes: UInt64)? {
        // MALLCTL_ARENAS_ALL: the sum over every arena.
        let all = "stats.arenas.4096"
        guard let bins = unsigned("arenas.nbins"), let large = unsigned("arenas.nlextents") else { return nil }
        var requests: UInt64 = 0, bytes: UInt64 = 0
        for j in 0..<bins {
            guard let n = counter("\(all).bins.\(j).nrequests"), let size = statistic("arenas.bin.\(j).size") else { return nil }
            requests &+= n
            bytes &+= n &* UInt64(size)
        }
        for k in 0..<large {
            guard let n = counter("\(all).lextents.\(k).nrequests"), let size = statistic("arenas.lextent.\(k).size") else { return nil }
            requests &+= n
            bytes &+= n &* UInt64(size)
        }
        return (requests, bytes)
    }

    /// The statistics as text, for the proxy's `/memory` endpoint: memory in use now (bytes),
    /// and the allocations requested so far with their bytes (a harness reads them before and
    /// after some calls to know what each cost).
    public static func report() -> String {
        guard let s = snapshot() else { return "jemalloc statistics are not available\n" }
        var lines = ["allocator jemalloc \(version ?? "?")", "allocated \(s.allocated)", "active \(s.active)",
                     "resident \(s.resident)", "mapped \(s.mapped)", "metadata \(s.metadata)"]
        if let totals = requestTotals() { lines += ["allocation_requests \(totals.requests)", "allocation_request_bytes \(totals.bytes)"] }
        return lines.joined(separator: "\n") + "\n"
    }

    public struct Snapshot {
        /// Bytes in live allocations.
        public var allocated: Int
        /// Bytes in pages holding live allocations.
        public var active: Int
        /// Bytes physically resident in memory.
        public var resident: Int
        /// Bytes mapped from the operating system.
        public var mapped: Int
        /// Bytes used by jemalloc's own bookkeeping.
        public var metadata: Int
    }
}
