import LightningRPC

/// Representative messages used by the interop, JSON golden and round-trip tests. Their text-format
/// twins are Fixtures/*.txtpb and their gateway JSON Fixtures/*.json.
enum Samples {
    static func bytes(_ seed: UInt8, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: Int(seed) &* 31 &+ $0 &* 7) }
    }

    static func hop(_ i: Int, last: Bool) -> Lnrpc.Hop {
        var h = Lnrpc.Hop()
        h.chanId = 800_000 << 40 | UInt64(i + 1) << 16 | 1
        h.chanCapacity = 5_000_000
        h.amtToForward = 100_000
        h.fee = last ? 0 : 1
        h.expiry = 800_144 - UInt32(i) * 40
        h.amtToForwardMsat = 100_000_000
        h.feeMsat = last ? 0 : 1_100
        h.pubKey = "02" + String(repeating: String(i + 1), count: 64)
        h.tlvPayload = true
        if last {
            var mpp = Lnrpc.MPPRecord()
            mpp.paymentAddr = bytes(9, 32)
            mpp.totalAmtMsat = 300_000_000
            h.mppRecord = mpp
            var amp = Lnrpc.AMPRecord()
            amp.rootShare = bytes(10, 32)
            amp.setId = bytes(11, 32)
            amp.childIndex = 2
            h.ampRecord = amp
            h.customRecords = [5_482_373_484: bytes(12, 8), 65_536: [0x01, 0x02], 7_629_169: Array("hi".utf8)]
            h.totalAmtMsat = 300_000_000
        }
        return h
    }

    static func route(_ attempt: Int) -> Lnrpc.Route {
        var r = Lnrpc.Route()
        r.totalTimeLock = 800_144
        r.totalFees = 3
        r.totalAmt = 100_003
        r.hops = (0..<4).map { hop($0 + attempt, last: $0 == 3) }
        r.totalFeesMsat = 3_300
        r.totalAmtMsat = 100_003_300
        r.firstHopAmountMsat = 100_003_300
        return r
    }

    /// A payment with 3 HTLC attempts over 4 hops each, one failed with a Failure carrying a
    /// ChannelUpdate, MPP and AMP records and custom records on the final hops.
    static var payment: Lnrpc.Payment {
        var p = Lnrpc.Payment()
        p.paymentHash = String(repeating: "ab", count: 32)
        p.value = 300_000
        p.creationDate = 1_732_000_000
        p.fee = 6
        p.paymentPreimage = String(repeating: "cd", count: 32)
        p.valueSat = 300_000
        p.valueMsat = 300_000_000
        p.paymentRequest = "lnbc3m1pn9xyzpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu"
        p.status = .succeeded
        p.feeSat = 6
        p.feeMsat = 6_600
        p.creationTimeNs = 1_732_000_000_123_456_789
        p.paymentIndex = 42
        p.failureReason = .failureReasonNone
        p.firstHopCustomRecords = [65_537: bytes(1, 4), 70_000: bytes(2, 3)]
        for i in 0..<3 {
            var a = Lnrpc.HTLCAttempt()
            a.attemptId = UInt64(100 + i)
            a.route = route(i)
            a.attemptTimeNs = 1_732_000_000_200_000_000 + Int64(i) * 1_000_000
            a.resolveTimeNs = a.attemptTimeNs + 500_000_000
            if i == 0 {
                a.status = .failed
                var f = Lnrpc.Failure()
                f.code = .temporaryChannelFailure
                var u = Lnrpc.ChannelUpdate()
                u.signature = bytes(20, 64)
                u.chainHash = bytes(21, 32)
                u.chanId = 800_000 << 40 | 2 << 16 | 1
                u.timestamp = 1_731_999_000
                u.messageFlags = 1
                u.channelFlags = 0
                u.timeLockDelta = 40
                u.htlcMinimumMsat = 1_000
                u.baseFee = 1_000
                u.feeRate = 1
                u.htlcMaximumMsat = 4_950_000_000
                f.channelUpdate = u
                f.htlcMsat = 100_001_100
                f.onionSha256 = bytes(22, 32)
                f.cltvExpiry = 800_104
                f.flags = 0
                f.failureSourceIndex = 2
                f.height = 800_001
                a.failure = f
            } else {
                a.status = .succeeded
                a.preimage = bytes(0xCD, 32)
            }
            p.htlcs.append(a)
        }
        return p
    }

    /// A SendPaymentRequest with route hints, dest features, custom records and outgoing channels.
    static var sendPaymentRequest: Routerrpc.SendPaymentRequest {
        var r = Routerrpc.SendPaymentRequest()
        r.dest = bytes(30, 33)
        r.amt = 0
        r.paymentHash = bytes(31, 32)
        r.finalCltvDelta = 40
        r.timeoutSeconds = 60
        r.feeLimitSat = 0
        r.cltvLimit = 1_000
        var hint = Lnrpc.RouteHint()
        for i in 0..<2 {
            var hh = Lnrpc.HopHint()
            hh.nodeId = "03" + String(repeating: "e\(i)", count: 32)
            hh.chanId = 123_456_789_012 + UInt64(i)
            hh.feeBaseMsat = 1_000
            hh.feeProportionalMillionths = 100
            hh.cltvExpiryDelta = 144
            hint.hopHints.append(hh)
        }
        r.routeHints = [hint, Lnrpc.RouteHint()]
        r.destCustomRecords = [5_482_373_484: bytes(32, 32), 34_349_334: Array("memo".utf8)]
        r.amtMsat = 250_000_000
        r.feeLimitMsat = 1_000_000
        r.lastHopPubkey = bytes(33, 33)
        r.allowSelfPayment = true
        r.destFeatures = [.tlvOnionOpt, .paymentAddrReq, .mppOpt, .ampOpt, .unrecognized(111)]
        r.maxParts = 16
        r.noInflightUpdates = false
        r.outgoingChanIds = [1, 300, 1 << 60]
        r.paymentAddr = bytes(34, 32)
        r.maxShardSizeMsat = 50_000_000
        r.amp = false
        r.timePref = -0.5
        r.cancelable = true
        r.firstHopCustomRecords = [65_536: [0xFF]]
        return r
    }

    /// An invoice with a features map, route hints, HTLCs and an AMP state map.
    static var invoice: Lnrpc.Invoice {
        var inv = Lnrpc.Invoice()
        inv.memo = "coffee ☕ \"quoted\"\n"
        inv.rPreimage = bytes(40, 32)
        inv.rHash = bytes(41, 32)
        inv.value = 1_000
        inv.valueMsat = 1_000_000
        inv.settled = true
        inv.creationDate = 1_732_000_000
        inv.settleDate = 1_732_000_100
        inv.paymentRequest = "lnbc10u1pn9abc"
        inv.descriptionHash = []
        inv.expiry = 86_400
        inv.cltvExpiry = 80
        var hint = Lnrpc.RouteHint()
        var hh = Lnrpc.HopHint()
        hh.nodeId = "02" + String(repeating: "f", count: 64)
        hh.chanId = 987_654_321
        hh.cltvExpiryDelta = 40
        hint.hopHints = [hh]
        inv.routeHints = [hint]
        inv.private = true
        inv.addIndex = 7
        inv.settleIndex = 3
        inv.amtPaid = 1_000_000
        inv.amtPaidSat = 1_000
        inv.amtPaidMsat = 1_000_000
        inv.state = .settled
        var htlc = Lnrpc.InvoiceHTLC()
        htlc.chanId = 987_654_321
        htlc.htlcIndex = 5
        htlc.amtMsat = 1_000_000
        htlc.acceptHeight = 800_000
        htlc.acceptTime = 1_732_000_050
        htlc.resolveTime = 1_732_000_100
        htlc.expiryHeight = 800_080
        htlc.state = .settled
        htlc.customRecords = [65_536: [1, 2, 3]]
        htlc.mppTotalAmtMsat = 1_000_000
        inv.htlcs = [htlc]
        func feature(_ name: String, _ required: Bool) -> Lnrpc.Feature {
            var f = Lnrpc.Feature()
            f.name = name
            f.isRequired = required
            f.isKnown = true
            return f
        }
        inv.features = [9: feature("tlv-onion", false), 14: feature("payment-addr", true), 17: feature("multi-path-payments", false)]
        inv.isKeysend = false
        inv.paymentAddr = bytes(42, 32)
        inv.isAmp = false
        var state = Lnrpc.AMPInvoiceState()
        state.state = .settled
        state.settleIndex = 3
        state.settleTime = 1_732_000_100
        state.amtPaidMsat = 1_000_000
        inv.ampInvoiceState = ["00ff": state]
        var bpc = Lnrpc.BlindedPathConfig()
        bpc.minNumRealHops = 0
        bpc.numHops = 2
        bpc.incomingChannelList = [5, 6, 1 << 40]
        inv.blindedPathConfig = bpc
        return inv
    }
}
