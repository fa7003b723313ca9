import XCTest
import PostgresTestSupport
@testable import PostgreSQL

/// The libpq wrapper against a real private cluster: binary parameters and columns, prepared
/// statements, transactions, server errors, timeouts, LISTEN/NOTIFY and reconnecting.
final class PostgresConnectionTests: XCTestCase {
    private func connect(_ configure: (inout PostgresConnection.Options) -> Void = { _ in }) throws -> PostgresConnection {
        let dsn = try PostgresCluster.shared().createDatabase()
        var o = PostgresConnection.Options()
        configure(&o)
        return try PostgresConnection(dsn: dsn, options: o)
    }

    func testParametersAndColumnsRoundTripInBinary() throws {
        let c = try connect()
        try c.execute("CREATE TABLE t (i BIGINT, b BYTEA, s TEXT, f BOOLEAN, n INTEGER)")
        let blob: [UInt8] = [0, 1, 0xff, 0x27, 0x5c, 0]
        let odd = "it's a \"quote\"; DROP TABLE t; -- ünïcode"
        try c.query("INSERT INTO t VALUES ($1, $2, $3, $4, $5)", [.int64(Int64.min), .bytes(blob), .text(odd), .bool(true), .null])
        try c.query("INSERT INTO t VALUES ($1, $2, $3, $4, $5)", [.int64(-1), .bytes([]), .text(""), .bool(false), .null])
        let r = try c.query("SELECT i, b, s, f, n FROM t WHERE i = $1", [.int64(Int64.min)])
        XCTAssertEqual(r.count, 1)
        XCTAssertEqual(try r.int64(0, 0), Int64.min)
        XCTAssertEqual(try r.bytes(0, 1), blob)
        XCTAssertEqual(try r.text(0, 2), odd, "text parameters are data, never SQL")
        XCTAssertTrue(try r.bool(0, 3))
        XCTAssertTrue(r.isNull(0, 4))
        let empty = try c.query("SELECT b, s, i::int4, i::int2 FROM t WHERE i = $1", [.int64(-1)])
        XCTAssertEqual(try empty.bytes(0, 0), [])
        XCTAssertFalse(empty.isNull(0, 0), "an empty bytea is not NULL")
        XCTAssertEqual(try empty.int64(0, 2), -1)
        XCTAssertEqual(try empty.int64(0, 3), -1)
        XCTAssertThrowsError(try empty.bytes(0, 1), "reading text as bytea is a reported mismatch")
        XCTAssertEqual(try c.query("SELECT count(*) FROM t").int64(0, 0), 2)
        XCTAssertEqual(try c.query("UPDATE t SET n = 1 WHERE i < $1", [.int64(0)]).affectedRows, 2)
    }

    func testTransactionsCommitAndRollBack() throws {
        let c = try connect()
        try c.execute("CREATE TABLE t (k BIGINT PRIMARY KEY)")
        try c.transaction { try c.query("INSERT INTO t VALUES ($1)", [.int64(1)]) }
        struct Boom: Error {}
        XCTAssertThrowsError(try c.transaction {
            try c.query("INSERT INTO t VALUES ($1)", [.int64(2)])
            throw Boom()
        })
        XCTAssertEqual(try c.query("SELECT count(*) FROM t").int64(0, 0), 1, "the failed transaction left nothing")
        // A server error names its SQLSTATE and leaves the session usable.
        do {
            try c.query("INSERT INTO t VALUES ($1)", [.int64(1)])
            XCTFail("duplicate key accepted")
        } catch let e {
            XCTAssertEqual(e.kind, .server)
            XCTAssertEqual(e.sqlState, "23505")
            XCTAssertFalse(e.isConnectionLost)
        }
        XCTAssertThrowsError(try c.transaction { try c.query("INSERT INTO t VALUES ($1)", [.int64(1)]) })
        XCTAssertEqual(try c.query("SELECT count(*) FROM t").int64(0, 0), 1)
        XCTAssertTrue(c.isConnected)
    }

    func testStatementTimeout() throws {
        let c = try connect { $0.timeoutSeconds = 1 }
        do {
            try c.query("SELECT pg_sleep($1::float8)", [.text("30")])
            XCTFail("a 30 s statement finished under a 1 s timeout")
        } catch let e {
            // The server's statement_timeout (57014 query_canceled) normally fires first; the
            // client-side deadline is the backstop.
            XCTAssertTrue(e.sqlState == "57014" || e.kind == .timeout, "\(e)")
        }
        XCTAssertEqual(try c.query("SELECT 1::int8").int64(0, 0), 1, "usable again after the timeout")
    }

    func testListenNotify() throws {
        let dsn = try PostgresCluster.shared().createDatabase()
        let listener = try PostgresConnection(dsn: dsn)
        let sender = try PostgresConnection(dsn: dsn)
        try listener.listen("payment_updates")
        XCTAssertThrowsError(try listener.listen("bad; name"))
        XCTAssertEqual(try listener.notifications(timeout: 0), [])
        try sender.notify("payment_updates", "one")
        try sender.transaction {
            try sender.notify("payment_updates", "two")
            try sender.notify("other", "ignored")
            try sender.notify("payment_updates", "three")
        }
        var got: [String] = []
        while got.count < 3 {
            let batch = try listener.notifications(timeout: 10)
            XCTAssertFalse(batch.isEmpty, "notifications arrive within 10 s")
            if batch.isEmpty { break }
            XCTAssertTrue(batch.allSatisfy { $0.channel == "payment_updates" && $0.senderPID == sender.backendPID })
            got += batch.map(\.payload)
        }
        XCTAssertEqual(got, ["one", "two", "three"], "in commit order, nothing from other channels")
        // Nothing is delivered for a rolled-back transaction.
        struct Abort: Error {}
        _ = try? sender.transaction { try sender.notify("payment_updates", "never"); throw Abort() }
        try sender.notify("payment_updates", "four")
        XCTAssertEqual(try listener.notifications(timeout: 10).map(\.payload), ["four"])
    }

    /// A server restart drops every session: the next call reconnects (and re-LISTENs).
    func testReconnectAfterServerRestart() throws {
        let cluster = try PostgresCluster()
        let c = try PostgresConnection(dsn: cluster.dsn())
        try c.listen("changes")
        XCTAssertEqual(try c.query("SELECT 41::int8 + $1", [.int64(1)]).int64(0, 0), 42)
        let pid = c.backendPID
        cluster.stop(mode: "immediate")
        do {
            try c.query("SELECT 1::int8")
            XCTFail("a query succeeded on a stopped server")
        } catch let e {
            XCTAssertTrue(e.isConnectionLost, "\(e)")
        }
        XCTAssertFalse(c.isConnected)
        XCTAssertThrowsError(try c.query("SELECT 1::int8"), "still down: reconnect fails with a clear error")
        try cluster.start()
        XCTAssertEqual(try c.query("SELECT 41::int8 + $1", [.int64(1)]).int64(0, 0), 42, "prepared again on the new session")
        XCTAssertNotEqual(c.backendPID, pid)
        XCTAssertGreaterThanOrEqual(c.reconnects, 1)
        let other = try PostgresConnection(dsn: cluster.dsn())
        try other.notify("changes", "after restart")
        XCTAssertEqual(try c.notifications(timeout: 10).map(\.payload), ["after restart"], "LISTEN re-issued on reconnect")
    }

    func testConnectFailureIsAClearError() {
        var o = PostgresConnection.Options()
        o.timeoutSeconds = 2
        XCTAssertThrowsError(try PostgresConnection(dsn: "host=/nonexistent-dir port=1 user=postgres", options: o)) { e in
            XCTAssertEqual((e as? PostgresError)?.kind, .connection)
        }
        XCTAssertThrowsError(try PostgresConnection(dsn: "this is not a dsn", options: o))
    }
}
