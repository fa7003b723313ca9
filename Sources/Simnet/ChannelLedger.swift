import Routing

/// One channel's money in the ledger. Index 0 is node1 (BOLT 7 lesser key) → node2, as in the
/// simulated network's channels.
public struct LedgerChannelState: Sendable, Equatable {
    /// Settled balance per side (HTLCs in flight still counted on the offering side).
    public var balanceMsat: [UInt64]
    /// Outgoing HTLC amounts in flight per side, locked out of `balanceMsat`.
    public var lockedMsat: [UInt64]

    public init(balanceMsat: [UInt64], lockedMsat: [UInt64] = [0, 0]) {
        self.balanceMsat = balanceMsat
        self.lockedMsat = lockedMsat
    }
}

/// One hop of an HTLC in flight: `amountMsat` locked on `direction` of `channel`.
public struct LedgerHold: Sendable, Equatable {
    public var htlcID: UInt64
    /// Position of the hop on the route (0: the sender's own channel).
    public var hop: Int
    public var channel: ShortChannelID
    /// 0: node1 → node2.
    public var direction: Int
    public var amountMsat: UInt64
    /// The HTLC's `cltv_expiry` on this channel.
    public var expiry: UInt32
    public var paymentHash: [UInt8]
    /// The replica lease that reserved it (nil: a process without leases, e.g. one embedded
    /// node; such a hold is resolved only by its HTLC's own settle or release).
    public var owner: LedgerHoldOwner?

    public init(htlcID: UInt64, hop: Int, channel: ShortChannelID, direction: Int, amountMsat: UInt64, expiry: UInt32,
                paymentHash: [UInt8], owner: LedgerHoldOwner? = nil) {
        self.htlcID = htlcID
        self.hop = hop
        self.channel = channel
        self.direction = direction
        self.amountMsat = amountMsat
        self.expiry = expiry
        self.paymentHash = paymentHash
        self.owner = owner
    }
}

/// What a payment changes in the simulated network: channel balances, the amounts locked by
/// HTLCs in flight, and those HTLCs. The topology and the policies are not here: every process
/// derives them alike from the seed and the topology; only money moves.
///
/// Implementations: `MemoryChannelLedger` (the embedded default: the network's state lives and
/// dies with the process, with either store backend for payments) and `PostgresChannelLedger`
/// (`--db.backend postgres`: one network shared by every replica on the database). The
/// conformance suite `ChannelLedgerConformance` runs unchanged on both.
///
/// Contract:
/// - Thread-safe; every method is atomic on its own.
/// - `reserve` is a conditional reservation: it locks the amount only if the direction's
///   spendable balance (balance − locked) covers it, so concurrent senders, in one process or in
///   many, can never overdraw a channel.
/// - `settle` and `release` resolve every hop of one HTLC at once and are idempotent: a second
///   call for the same HTLC finds nothing and changes nothing.
/// - HTLC ids from `nextHTLCID` are never handed out twice by one ledger (across restarts for a
///   durable one), so (channel, htlc id) circuit keys stay unique.
/// - Ownership (replicas): a hold belongs to the lease its `owner` names, never to a database
///   session, so a reconnect or a database restart changes nothing about it. A reservation whose
///   owner may no longer write is refused. Holds of an owner whose lease expired are resolved by
///   the replica that takes its payment over (`resolveAbandoned`) or, when no payment run of the
///   owner's scope will (a finished payment, or none), by any live replica's scan
///   (`releaseOrphaned`). Holds of a live owner are never touched by another replica; a ledger
///   without leases (`MemoryChannelLedger`: one process) treats every owner as live.
public protocol ChannelLedger: AnyObject, Sendable {
    /// Enters the channels with their opening balances. A channel the ledger already holds keeps
    /// its balances (a durable ledger opened by a second replica or after a restart).
    func open(_ channels: [(channel: ShortChannelID, balanceMsat: [UInt64])]) throws

    /// A fresh HTLC id.
    func nextHTLCID() throws -> UInt64

    /// Locks `hold.amountMsat` on its channel direction and records the hold, if the spendable
    /// balance covers it; false (nothing changed) if it does not or the channel is unknown.
    func reserve(_ hold: LedgerHold) throws -> Bool

    /// The HTLC `htlcID` settled: each hop's amount leaves the offering side's balance and lock
    /// and joins the other side's balance; its holds are removed.
    func settle(htlcID: UInt64) throws

    /// The HTLC `htlcID` failed: each hop's lock is released; its holds are removed.
    func release(htlcID: UInt64) throws

    /// Current states of `channels` (every channel when nil), read in one consistent snapshot.
    /// A channel the ledger does not hold is absent.
    func states(_ channels: [ShortChannelID]?) throws -> [ShortChannelID: LedgerChannelState]

    /// Holds in flight on `channel` (all when nil), by HTLC id then hop.
    func holds(on channel: ShortChannelID?) throws -> [LedgerHold]

    /// Number of HTLCs (not hops) in flight.
    func inFlightCount() throws -> Int

    /// A payment of `scope` was taken over from a replica whose lease expired: the holds of its
    /// HTLCs (`paymentHash`) reserved under an expired lease of `scope` are settled (`settle`: the
    /// payee has the preimage) or released, in one step; holds of live leases stay. Idempotent.
    /// Returns the number of HTLCs resolved.
    @discardableResult
    func resolveAbandoned(paymentHash: [UInt8], scope: String, settle: Bool) throws -> Int

    /// Releases the holds whose owner's lease has expired and whose payment no run of the owner's
    /// scope will resolve (not Initiated or InFlight there), in `scope` (every scope when nil).
    /// Returns the number of HTLCs released.
    @discardableResult
    func releaseOrphaned(scope: String?) throws -> Int
}

/// Who reserved a hold: the replica lease `token` of `scope` (the PostgreSQL schema of the served
/// node whose payment sent the HTLC; lease tokens are unique within a scope only).
public struct LedgerHoldOwner: Sendable, Hashable {
    public var scope: String
    public var token: Int64

    public init(scope: String, token: Int64) {
        self.scope = scope
        self.token = token
    }
}
