import LightningRPC

/// The realistic Payment of the interop tests (Tests/LightningRPCTests/SampleMessages.swift):
/// 3 HTLC attempts over 4 hops, one failed with a Failure and ChannelUpdate, MPP and AMP records,
/// custom records and first-hop custom records.
enum Sample {
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
}
