import Locks
import Foundation
import Routing

/// The simulated network's balances and HTLCs in this process's memory (`ChannelLedger`): the
/// embedded default. Nothing survives the process; HTLC ids start from the clock so a restart
/// does not reuse the circuit keys payees remember. Holds keep their `owner` as given; with one
/// process there are no leases, so every owner counts as live.
public final class MemoryChannelLedger: ChannelLedger, @unchecked Sendable {
    private let lock = Lock()
    private var index: [ShortChannelID: Int] = [:]
    private var order: [ShortChannelID] = []
    private var states: [LedgerChannelState] = []
    private var holds: [UInt64: [LedgerHold]] = [:]
    /// 2^20 ids per ms of uptime before a later start could overlap.
    private var lastHTLCID = UInt64(Date().timeIntervalSince1970 * 1000) << 20

    public init() {}

    public func open(_ channels: [(channel: ShortChannelID, balanceMsat: [UInt64])]) {
        lock.withLock {
            for c in channels where index[c.channel] == nil {
                index[c.channel] = states.count
                order.append(c.channel)
                states.append(LedgerChannelState(balanceMsat: c.balanceMsat))
            }
        }
    }

    public func nextHTLCID() -> UInt64 {
        lock.withLock { lastHTLCID += 1; return lastHTLCID }
    }

    public func reserve(_ hold: LedgerHold) -> Bool {
        lock.withLock {
            guard let c = index[hold.channel], hold.direction == 0 || hold.direction == 1 else { return false }
            let d = hold.direction
            guard states[c].balanceMsat[d] - states[c].lockedMsat[d] >= hold.amountMsat else { return false }
            states[c].lockedMsat[d] += hold.amountMsat
            holds[hold.htlcID, default: []].append(hold)
            return true
        }
    }

    public func settle(htlcID: UInt64) {
        lock.withLock {
            for h in holds.removeValue(forKey: htlcID) ?? [] {
                let c = index[h.channel]!, d = h.direction
                states[c].lockedMsat[d] -= h.amountMsat
                states[c].balanceMsat[d] -= h.amountMsat
                states[c].balanceMsat[1 - d] += h.amountMsat
            }
        }
    }

    public func release(htlcID: UInt64) {
        lock.withLock {
            for h in holds.removeValue(forKey: htlcID) ?? [] {
                states[index[h.channel]!].lockedMsat[h.direction] -= h.amountMsat
            }
        }
    }

    public func states(_ channels: [ShortChannelID]?) -> [ShortChannelID: LedgerChannelState] {
        lock.withLock {
            var out: [ShortChannelID: LedgerChannelState] = [:]
            for scid in channels ?? order {
                if let c = index[scid] { out[scid] = states[c] }
            }
            return out
        }
    }

    public func holds(on channel: ShortChannelID?) -> [LedgerHold] {
        lock.withLock {
            holds.values.flatMap { $0 }.filter { channel == nil || $0.channel == channel }
                .sorted { ($0.htlcID, $0.hop) < ($1.htlcID, $1.hop) }
        }
    }

    public func inFlightCount() -> Int { lock.withLock { holds.count } }

    /// One process, no leases: every owner is live, so nothing is abandoned.
    public func resolveAbandoned(paymentHash: [UInt8], scope: String, settle: Bool) -> Int { 0 }

    /// One process, no leases: every owner is live, so nothing is orphaned.
    public func releaseOrphaned(scope: String?) -> Int { 0 }
}
