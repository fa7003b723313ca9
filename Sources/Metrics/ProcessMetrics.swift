import Foundation

/// The process gauges every Prometheus client exports, read from /proc at scrape time (Linux):
/// `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_open_fds`,
/// `process_max_fds`.
public enum ProcessMetrics {
    public static func register(in registry: MetricsRegistry) throws {
        try registry.sampled("process_resident_memory_bytes", help: "Resident memory size in bytes.") { Double(statusKilobytes("VmRSS:") ?? 0) * 1024 }
        try registry.sampled("process_virtual_memory_bytes", help: "Virtual memory size in bytes.") { Double(statusKilobytes("VmSize:") ?? 0) * 1024 }
        try registry.sampled("process_open_fds", help: "Number of open file descriptors.") {
            Double(((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count ?? 1) - 1)
        }
        try registry.sampled("process_max_fds", help: "Maximum number of open file descriptors.") {
            var limit = rlimit()
            return getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : 0
        }
    }

    /// A `kB` field of /proc/self/status (`VmRSS:`), in kilobytes.
    static func statusKilobytes(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field) {
            return Int(line.dropFirst(field.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }
}
