import Locks
import XCTest
import Foundation
import Crypto
import BOLT11
@testable import Invoices
import PostgresTestSupport

/// A settable clock (unix seconds).
final class TestClock: @unchecked Sendable {
    private let lock = Lock()
    private var value: Int64
    init(_ start: Int64) { value = start }
    var now: Int64 { lock.lock(); defer { lock.unlock() }; return value }
    func advance(_ s: Int64) { lock.lock(); value += s; lock.unlock() }
}

/// The invoice store implementations the registry suites run against.
enum InvoiceBackend {
    case sqlite, postgres
}

/// A temp dir with an invoice store file (or, on the postgres backend, a database per store path
/// on the test process's private cluster), and helpers to open registries on it.
class RegistryTestCase: XCTestCase {
    /// The store every registry of this class opens; PostgreSQL subclasses override it.
    class var backend: InvoiceBackend { .sqlite }
    var dir: URL!
    var clock: TestClock!
    private var databases: [String: String] = [:]
    let nodeKey = try! PrivateKey(rawRepresentation: Hex.decode("e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734")!)

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("invoices-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        clock = TestClock(1_800_000_000)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var storePath: String { dir.appendingPathComponent("invoices.sqlite").path }

    func openRegistry(currency: Currency = .bitcoinTestnet, path: String? = nil,
                      configure: (inout InvoiceRegistry.Configuration) -> Void = { _ in }) throws -> InvoiceRegistry {
        var config = InvoiceRegistry.Configuration(currency: currency, nodeKey: nodeKey)
        let clock = self.clock!
        config.now = { clock.now }
        configure(&config)
        let path = path ?? storePath
        switch Self.backend {
        case .sqlite:
            return try InvoiceRegistry(path: path, configuration: config)
        case .postgres:
            if databases[path] == nil { databases[path] = try PostgresCluster.shared().createDatabase() }
            var o = PostgresInvoiceStore.Options(dsn: databases[path]!, schema: "paytrack_test")
            o.timeoutSeconds = 30
            return try InvoiceRegistry(database: .postgres(o), configuration: config)
        }
    }

    func add(_ r: InvoiceRegistry, msat: Int64 = 0, memo: String = "", preimage: [UInt8] = [],
             expiry: Int64 = 0, hold: [UInt8]? = nil) throws -> AddInvoiceResult {
        var req = AddInvoiceRequest()
        req.valueMsat = msat
        req.memo = memo
        req.rPreimage = preimage
        req.expiry = expiry
        req.holdPaymentHash = hold
        return try r.addInvoice(req)
    }

    func assertInvoiceError(_ expr: @autoclosure () throws -> Any, _ expected: String, code: Int32 = 2,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expr(), file: file, line: line) { error in
            guard let e = error as? InvoiceError else { return XCTFail("not an InvoiceError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.description, expected, file: file, line: line)
            XCTAssertEqual(e.grpcStatusCode, code, file: file, line: line)
        }
    }
}
