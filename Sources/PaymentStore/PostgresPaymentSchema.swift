import Payments
import PostgreSQL

/// The payments schema on PostgreSQL and its migrations: the same tables, columns and indexes
/// as `PaymentSchema` (SQLite), in PostgreSQL's types, so `PaymentRowDecoder` reads both.
///
/// Several processes may open one database at once (replicas): `migrate` holds a transaction-scoped
/// advisory lock, so exactly one applies each missing version and the others then see it.
/// `schema_migrations` is shared by every PayTrack store in the schema, keyed by component.
///
/// Differences from SQLite: `htlc_attempts.payment_id` cascades on delete (one statement removes a
/// payment with its attempts); `payment_meta` starts with its three counters; `payments.change_xid`
/// (version 2) is the change index other replicas follow.
enum PostgresPaymentSchema {
    static let component = "payments"

    static let migrations: [(version: Int, sql: StaticString)] = [
        (1, """
        CREATE TABLE payments (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            hash BYTEA NOT NULL UNIQUE,
            payment_index BIGINT NOT NULL UNIQUE,
            value_msat BIGINT NOT NULL,
            creation_ns BIGINT NOT NULL,
            payment_request BYTEA NOT NULL,
            first_hop_records BYTEA NOT NULL,
            failure_reason BIGINT,
            status BIGINT NOT NULL,
            last_update_ns BIGINT NOT NULL
        );
        CREATE INDEX payments_status ON payments (status, payment_index);
        CREATE INDEX payments_update ON payments (last_update_ns);
        CREATE INDEX payments_creation ON payments (creation_ns);
        CREATE TABLE htlc_attempts (
            payment_id BIGINT NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
            attempt_id BIGINT NOT NULL,
            session_key BYTEA NOT NULL,
            attempt_ns BIGINT NOT NULL,
            attempt_hash BYTEA,
            route BYTEA NOT NULL,
            settle_preimage BYTEA,
            settle_ns BIGINT,
            fail_ns BIGINT,
            failure BYTEA,
            PRIMARY KEY (payment_id, attempt_id)
        );
        CREATE INDEX htlc_attempts_failed ON htlc_attempts (payment_id) WHERE fail_ns IS NOT NULL;
        CREATE TABLE payment_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
        INSERT INTO payment_meta (key, value) VALUES ('payment_count', 0), ('max_payment_index', 0), ('max_update_ns', 0);
        """),
        // The change index replicas follow (`PostgresPaymentFeed`): every insert or update of a
        // payment row records the id of its transaction, so a reader can take exactly the changes
        // of transactions that finished (below the snapshot's xmin), each once, in commit order
        // of those transactions' start; a trigger keeps it right for every statement.
        (2, """
        ALTER TABLE payments ADD COLUMN change_xid BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX payments_change ON payments (change_xid);
        CREATE FUNCTION payments_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.change_xid := pg_current_xact_id()::text::bigint;
            RETURN NEW;
        END $$;
        CREATE TRIGGER payments_change BEFORE INSERT OR UPDATE ON payments
            FOR EACH ROW EXECUTE FUNCTION payments_stamp_change();
        UPDATE payments SET change_xid = change_xid;
        """),
        // The writer sends a whole batch in one pipeline, so a change that finds no row must fail
        // inside the server (aborting the transaction before its COMMIT), with a clear message.
        (3, """
        CREATE FUNCTION payments_expect_one(n bigint, what text) RETURNS bigint LANGUAGE plpgsql AS $$
        BEGIN
            IF n <> 1 THEN
                RAISE EXCEPTION 'missing row: %', what USING ERRCODE = 'P0002';
            END IF;
            RETURN n;
        END $$;
        """),
        // Throughput (Benchmarks/pg): the writer stamps `change_xid` in its statements
        // (`txid_current()`, the same number as `pg_current_xact_id()`) instead of a row trigger,
        // and sends a batch's changes of one kind as one multi-row statement, which must find as
        // many rows as it was given. Fewer indexes on the hot table (every update of a payment
        // inserts into each of them): the status index becomes a partial index of the payments
        // still in flight (startup, TrackPayments), and ListPayments' creation-date bounds and
        // its succeeded-only filter walk the payment_index order (creation times grow with it).
        (4, """
        DROP INDEX payments_status;
        DROP INDEX payments_creation;
        CREATE INDEX payments_in_flight ON payments (payment_index) WHERE status IN (1, 2);
        DROP TRIGGER payments_change ON payments;
        DROP FUNCTION payments_stamp_change();
        CREATE FUNCTION payments_expect_count(n bigint, expected bigint, what text) RETURNS bigint LANGUAGE plpgsql AS $$
        BEGIN
            IF n <> expected THEN
                RAISE EXCEPTION 'missing row: %', what USING ERRCODE = 'P0002';
            END IF;
            RETURN n;
        END $$;
        """),
        // Throughput, continued (Benchmarks/pg, session 7): a B-tree on `last_update_ns`, which
        // every change writes, cost an index insertion per change; a BRIN index answers the same
        // TrackPayments replay query (`last_update_ns >= $1`, rechecked on the heap, so the rows
        // are exactly those) for a range summary updated in place. Free space in every page
        // (`fillfactor`) lets a settle of an attempt, which changes no indexed column of
        // `htlc_attempts`, be a HOT update (no index insertion), and keeps a payment's new
        // versions on its page.
        (5, """
        DROP INDEX payments_update;
        CREATE INDEX payments_update ON payments USING brin (last_update_ns);
        ALTER TABLE payments SET (fillfactor = 80);
        ALTER TABLE htlc_attempts SET (fillfactor = 80);
        """),
    ]

    static var currentVersion: Int { migrations.last!.version }

    /// This component's version in the database (0: none).
    static func version(_ c: PostgresConnection) throws -> Int {
        try PostgresMigrations.version(c, component: component)
    }

    /// Applies every missing version up to `target` (`PostgresMigrations`: one transaction under
    /// an advisory lock).
    static func migrate(_ c: PostgresConnection, upTo target: Int = currentVersion) throws {
        try PostgresMigrations.migrate(c, component: component, migrations: migrations, upTo: target)
    }
}
