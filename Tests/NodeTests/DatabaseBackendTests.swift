import XCTest
@testable import Node

/// The --db.* flags (LND's names) and how a node picks its stores from them.
final class DatabaseBackendTests: XCTestCase {
    private func config(_ args: [String]) throws -> Config {
        guard case .run(let c) = try Config.parse(args) else { throw ConfigError(description: "not a run") }
        return c
    }

    private func error(_ args: [String]) -> String? {
        do { _ = try Config.parse(args); return nil } catch { return (error as? ConfigError)?.description }
    }

    func testDefaultsAreSQLiteAndLNDsPostgresDefaults() throws {
        let c = try config([])
        XCTAssertEqual(c.dbBackend, .sqlite)
        XCTAssertNil(c.postgresDSN)
        XCTAssertEqual(c.postgresTimeoutSeconds, 0)
        XCTAssertEqual(c.postgresMaxConnections, 50)
        XCTAssertEqual(c.postgresLeaseTimeoutSeconds, 10)
        XCTAssertTrue(Config.usage().contains("--db.postgres.dsn DSN"))
        XCTAssertTrue(Config.usage().contains("--db.postgres.leasetimeout DURATION"))
    }

    func testFlagsParse() throws {
        let c = try config(["--db.backend", "postgres", "--db.postgres.dsn=host=/tmp dbname=x", "--db.postgres.timeout", "1m30s",
                            "--db.postgres.maxconnections", "8"])
        XCTAssertEqual(c.dbBackend, .postgres)
        XCTAssertEqual(c.postgresDSN, "host=/tmp dbname=x")
        XCTAssertEqual(c.postgresTimeoutSeconds, 90)
        XCTAssertEqual(c.postgresMaxConnections, 8)
        XCTAssertEqual(try config(["--db.postgres.leasetimeout", "2.5s"]).postgresLeaseTimeoutSeconds, 2.5)
        XCTAssertEqual(try config(["--db.backend", "SQLite"]).dbBackend, .sqlite)
        for (text, seconds) in [("10s", 10.0), ("500ms", 0.5), ("2h", 7200), ("1.5s", 1.5), ("0", 0), ("7", 7), ("250us", 0.00025)] {
            XCTAssertEqual(try DatabaseBackend.seconds(text, flag: "t"), seconds, accuracy: 1e-12, text)
        }
    }

    func testBadValuesAreClearErrors() {
        XCTAssertEqual(error(["--db.backend", "mysql"]), "--db.backend wants sqlite or postgres, got \"mysql\"")
        for bad in ["", "10x", "s", "-1s", "1s-", "ten"] {
            XCTAssertEqual(error(["--db.postgres.timeout", bad]),
                           "--db.postgres.timeout wants a duration such as 10s, 500ms or 1m, got \"\(bad)\"", bad)
        }
        XCTAssertEqual(error(["--db.postgres.maxconnections", "1"]), "--db.postgres.maxconnections wants an integer ≥ 2")
        XCTAssertEqual(error(["--db.postgres.leasetimeout", "500ms"]), "--db.postgres.leasetimeout wants at least 1s, got \"500ms\"")
        XCTAssertEqual(error(["--db.postgres.leasetimeout", "soon"]),
                       "--db.postgres.leasetimeout wants a duration such as 10s, 500ms or 1m, got \"soon\"")
    }

    func testPostgresNeedsADSNAndANodeNameFitForASchema() throws {
        let c = try config(["--db.backend", "postgres"])
        XCTAssertThrowsError(try c.openPaymentStore(node: "alice", sqlitePath: "/nonexistent")) {
            XCTAssertEqual(($0 as? ConfigError)?.description, "--db.backend postgres needs --db.postgres.dsn")
        }
        XCTAssertEqual(try Config.postgresSchema(node: "Alice"), "paytrack_alice")
        XCTAssertThrowsError(try Config.postgresSchema(node: "bob; DROP SCHEMA x"))
        XCTAssertThrowsError(try Config.postgresSchema(node: String(repeating: "a", count: 60)))
    }
}
