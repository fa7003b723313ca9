import Locks
import Foundation
import GRPC
import RPCCore
import LightningRPC
import ProtoWire
import Transport

/// Makes `count` in-flight payments from alice to bob through the daemon's real API: bob's
/// `AddInvoice`, then alice's `SendPaymentV2`, reading its first two updates (Initiated, then the
/// snapshot with the first HTLC attempt). The SendPaymentV2 streams stay open (they exist before
/// the "before" RSS reading, so they are not counted per TrackPaymentV2 stream).
/// At most `window` calls are outstanding at once (the daemon's blocking pool is bounded).
final class InFlightPayments: @unchecked Sendable {
    let alice: [GRPCClient]
    let bob: GRPCClient
    private(set) var hashes: [[UInt8]] = []
    private(set) var sendCalls: [ClientCall] = []

    init(alice: [GRPCClient], bob: GRPCClient) {
        self.alice = alice
        self.bob = bob
    }

    /// Creates the payments; throws if any invoice or payment failed or did not reach an HTLC.
    /// With `maxShardSizeMsat` the payments are sent as multi-part payments of such shards.
    func make(count: Int, amountSat: Int64 = 1, maxShardSizeMsat: UInt64 = 0, window: Int = 64) throws {
        // 1. Invoices (blocking pool on bob: bounded window).
        let invoices = Locked([(hash: [UInt8], payReq: String)?](repeating: nil, count: count))
        let failures = Locked([String]())
        let sem = DispatchSemaphore(value: window)
        let group = DispatchGroup()
        for i in 0..<count {
            sem.wait(); group.enter()
            var inv = Lnrpc.Invoice()
            inv.value = amountSat
            inv.memo = "streamsbench \(i)"
            bob.unary(path: "/lnrpc.Lightning/AddInvoice", request: inv.serializedBytes(), timeout: .seconds(60)) { r in
                switch r {
                case .success(let b):
                    if let resp = try? Lnrpc.AddInvoiceResponse(serializedBytes: b) {
                        invoices.with { $0[i] = (resp.rHash, resp.paymentRequest) }
                    } else { failures.with { $0.append("AddInvoice: undecodable response") } }
                case .failure(let s):
                    failures.with { $0.append("AddInvoice: \(s.code) \(s.message)") }
                }
                sem.signal(); group.leave()
            }
        }
        group.wait()
        if let f = failures.with({ $0.first }) { throw BenchError("\(failures.with { $0.count }) invoices failed, first: \(f)") }

        // 2. Payments: each SendPaymentV2 call counts updates; the window slot frees after two.
        final class SendState: @unchecked Sendable { var updates = 0; var released = false; var lastStatus: Int32 = 0; var htlcs = 0 }
        let states = (0..<count).map { _ in SendState() }
        var calls: [ClientCall] = []
        for i in 0..<count {
            sem.wait(); group.enter()
            var req = Routerrpc.SendPaymentRequest()
            req.paymentRequest = invoices.with { $0[i]!.payReq }
            req.timeoutSeconds = 3600
            req.feeLimitSat = 1000
            req.maxShardSizeMsat = maxShardSizeMsat
            let st = states[i]
            let client = alice[i % alice.count]
            let release = { @Sendable in
                if !st.released { st.released = true; sem.signal(); group.leave() }
            }
            let call = client.serverStreaming(path: "/routerrpc.Router/SendPaymentV2", request: req.serializedBytes(),
                onMessage: { b in
                    st.updates += 1
                    if let p = try? Lnrpc.Payment(serializedBytes: b) { st.lastStatus = p.status.rawValue; st.htlcs = p.htlcs.count }
                    if st.updates >= 2 { release() }
                },
                onFinish: { s in
                    if !st.released {
                        failures.with { $0.append("SendPaymentV2 ended after \(st.updates) updates: \(s.code) \(s.message)") }
                        release()
                    }
                })
            calls.append(call)
        }
        group.wait()
        if let f = failures.with({ $0.first }) { throw BenchError("\(failures.with { $0.count }) payments failed, first: \(f)") }
        let notInFlight = states.filter { $0.lastStatus != Lnrpc.Payment.PaymentStatus.inFlight.rawValue || $0.htlcs == 0 }.count
        if notInFlight > 0 { throw BenchError("\(notInFlight) payments are not IN_FLIGHT with an HTLC after two updates") }
        hashes = invoices.with { $0.map { $0!.hash } }
        sendCalls = calls
    }
}

/// A value behind a lock, shared with callbacks on the client loops.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = Lock()
    init(_ v: T) { value = v }
    func with<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}
