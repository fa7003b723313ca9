import Foundation
import XCTest

/// Paths and subprocess helpers for tests that compare against the reference `protoc`.
enum TestSupport {
    /// The package root (…/Tests/LightningRPCTests/TestSupport.swift → …).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent("Tests/LightningRPCTests/Fixtures/\(name)"))
    }

    static let protoFiles = ["Protos/lightning.proto", "Protos/routerrpc/router.proto", "Protos/invoicesrpc/invoices.proto", "Protos/paytrackrpc/simnet.proto"]

    struct ProcessFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `executable` (looked up on PATH) in the package root with `stdin`; returns stdout.
    /// A non-zero exit throws with stderr in the message.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], stdin: Data = Data()) throws -> Data {
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("paytrack-run-\(UUID().uuidString)")
        let inURL = base.appendingPathExtension("in"), errURL = base.appendingPathExtension("err")
        try stdin.write(to: inURL)
        defer { try? fm.removeItem(at: inURL); try? fm.removeItem(at: errURL) }
        guard fm.createFile(atPath: errURL.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [executable] + arguments
        p.currentDirectoryURL = root
        let outPipe = Pipe()
        p.standardInput = try FileHandle(forReadingFrom: inURL)
        p.standardOutput = outPipe
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ProcessFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(p.terminationStatus): "
                + String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
        }
        return out
    }

    /// `protoc --descriptor_set_out` of Protos/ (with imports), as bytes.
    static func descriptorSet() throws -> [UInt8] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("paytrack-ds-\(UUID().uuidString).pb")
        defer { try? FileManager.default.removeItem(at: out) }
        try run("protoc", ["-I", "Protos", "--include_imports", "--descriptor_set_out=\(out.path)"] + protoFiles)
        return Array(try Data(contentsOf: out))
    }
}
