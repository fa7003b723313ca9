import PostgreSQL

/// What lets several replicas write one payments schema (component `payment_leases`, applied by
/// `PostgresPaymentStore` right after the payments tables):
///
/// - `payment_leases`: one row per lease ever acquired; `token` (an identity, so it only grows) is
///   the fencing token. `fence_at` is when the holder must stop writing (its expiry minus a safety
///   margin), `expires_at` when another replica may take its payments over. Both are set from the
///   server's `clock_timestamp()` at each renewal: one clock decides, not the replicas'.
/// - `payments.lease_token`: the token of the payment's owner, set by the init that created it and
///   by a takeover; lifecycle changes are applied only `WHERE lease_token = $token AND
///   payment_lease_writable($token)` (fencing).
/// - `payment_index_seq`: payment indexes for every writer (one allocation order across replicas).
/// - `payments_expect_owned`, `payments_expect_created`: a fenced or refused change fails inside the
///   server with a SQLSTATE of its own (`PT001` lease not held, `PT002` hash exists with status N),
///   so the batch's COMMIT never runs and the store can tell the caller exactly why.
/// - `ledger_owner_writable`, `ledger_owner_expired`, `ledger_payment_unfinished` (version 2): the
///   questions the shared channel ledger asks about holds a lease of this schema owns (may the
///   owner still reserve; is its lease over for good; will a payment run of this schema still
///   resolve the HTLCs of a hash).
enum PostgresPaymentLeaseSchema {
    static let component = "payment_leases"

    /// SQLSTATE of a change refused because the writer does not hold the payment's lease.
    static let leaseNotHeldState = "PT001"
    /// SQLSTATE of an init refused because the hash exists; the message ends with its status.
    static let paymentExistsState = "PT002"

    static let migrations: [(version: Int, sql: StaticString)] = [
        (1, """
        CREATE TABLE payment_leases (
            token BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL,
            acquired_at TIMESTAMPTZ NOT NULL,
            renewed_at TIMESTAMPTZ NOT NULL,
            fence_at TIMESTAMPTZ NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX payment_leases_expiry ON payment_leases (expires_at);
        ALTER TABLE payments ADD COLUMN lease_token BIGINT;
        CREATE SEQUENCE payment_index_seq AS BIGINT MINVALUE 1;
        SELECT setval('payment_index_seq', GREATEST(COALESCE(MAX(payment_index), 0),
            (SELECT value FROM payment_meta WHERE key = 'max_payment_index')) + 1, false) FROM payments;
        CREATE FUNCTION payment_lease_writable(t bigint) RETURNS boolean LANGUAGE sql VOLATILE AS $$
            SELECT EXISTS (SELECT 1 FROM payment_leases WHERE token = t AND fence_at > clock_timestamp())
        $$;
        CREATE FUNCTION payments_expect_owned(n bigint, h bytea, t bigint, what text) RETURNS bigint LANGUAGE plpgsql AS $$
        BEGIN
            IF n = 1 THEN
                RETURN n;
            END IF;
            IF EXISTS (SELECT 1 FROM payments WHERE hash = h
                       AND (lease_token IS DISTINCT FROM t OR (t IS NOT NULL AND NOT payment_lease_writable(t)))) THEN
                RAISE EXCEPTION 'payment lease not held: % (token %)', what, t USING ERRCODE = 'PT001';
            END IF;
            RAISE EXCEPTION 'missing row: %', what USING ERRCODE = 'P0002';
        END $$;
        CREATE FUNCTION payments_expect_created(n bigint, h bytea, t bigint) RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            s bigint;
        BEGIN
            IF n = 1 THEN
                RETURN n;
            END IF;
            IF t IS NOT NULL AND NOT payment_lease_writable(t) THEN
                RAISE EXCEPTION 'payment lease not held (token %)', t USING ERRCODE = 'PT001';
            END IF;
            SELECT status INTO s FROM payments WHERE hash = h;
            IF FOUND THEN
                RAISE EXCEPTION 'payment exists with status %', s USING ERRCODE = 'PT002';
            END IF;
            RAISE EXCEPTION 'missing row: payment' USING ERRCODE = 'P0002';
        END $$;
        """),
        // What the simulated network's shared ledger asks a lease's schema about the holds that
        // lease's replica reserved (`PostgresChannelLedger`: a hold's owner is (schema, token)). They
        // keep this schema as their search path (`FROM CURRENT`), so a session of another schema
        // can call them qualified. Statuses 1 and 2: Initiated and InFlight (`PaymentStatus`).
        (2, """
        CREATE FUNCTION ledger_owner_writable(t bigint) RETURNS boolean LANGUAGE sql VOLATILE
        SET search_path FROM CURRENT AS $$
            SELECT payment_lease_writable(t)
        $$;
        CREATE FUNCTION ledger_owner_expired(t bigint) RETURNS boolean LANGUAGE sql VOLATILE
        SET search_path FROM CURRENT AS $$
            SELECT NOT EXISTS (SELECT 1 FROM payment_leases WHERE token = t AND expires_at > clock_timestamp())
        $$;
        CREATE FUNCTION ledger_payment_unfinished(h bytea) RETURNS boolean LANGUAGE sql STABLE
        SET search_path FROM CURRENT AS $$
            SELECT EXISTS (SELECT 1 FROM payments WHERE hash = h AND status IN (1, 2))
        $$;
        """),
    ]

    static func migrate(_ c: PostgresConnection) throws {
        try PostgresMigrations.migrate(c, component: component, migrations: migrations)
    }
}
