/// One file of the dashboard page, compiled into the binary by Scripts/gen-dashboard.
public struct DashboardFile: Sendable {
    /// The file name under Sources/Dashboard/web (served at `/<name>`).
    public let name: String
    public let contentType: String
    public let bytes: [UInt8]

    public init(name: String, contentType: String, bytes: [UInt8]) {
        self.name = name
        self.contentType = contentType
        self.bytes = bytes
    }
}

/// The generated table of the dashboard's files (DashboardFiles.swift).
public enum DashboardFiles {}
