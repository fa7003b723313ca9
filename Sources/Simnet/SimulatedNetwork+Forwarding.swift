import Crypto
import Routing

/// The outcome of one HTLC.
public enum HTLCResult: Sendable, Equatable {
    /// The payee released the preimage; balances moved along the route.
    case settled(preimage: [UInt8])
    /// A node failed the HTLC (BOLT 4); all liquidity it locked is released.
    case failed(HTLCFailure)
}

extension SimulatedNetwork {
    /// Sends one HTLC along `route` (BOLT 2/4 semantics, simulated): hop by hop, each forwarding
    /// node checks the HTLC against its actual channel state and policy and locks the outgoing
    /// amount; after per-hop latency the payee's `PayeeHandler` decides; settlement moves the
    /// balances, failure releases them. The onion payload is the route's: each hop's
    /// `amt_to_forward`/`outgoing_cltv_value`, the final hop's `payment_data` (MPP record) and
    /// custom records.
    ///
    /// Failures come back as LND reports them: `failureSourceIndex` 0 = the sender's own first
    /// hop, `k` = the node `route.hops[k-1]`, `hops.count` = the payee. Checks at the node at
    /// index k forwarding over `hops[k].chanID`, in order:
    /// unknown channel or peer offline → UNKNOWN_NEXT_PEER; disabled → CHANNEL_DISABLED;
    /// below `htlc_minimum_msat` → AMOUNT_BELOW_MINIMUM; above `htlc_maximum_msat` →
    /// TEMPORARY_CHANNEL_FAILURE; incoming − outgoing < policy fee → FEE_INSUFFICIENT;
    /// incoming − outgoing expiry < delta → INCORRECT_CLTV_EXPIRY; outgoing expiry ≤ height +
    /// grace → EXPIRY_TOO_SOON; not enough spendable balance → TEMPORARY_CHANNEL_FAILURE;
    /// random injected → TEMPORARY_CHANNEL_FAILURE. All but UNKNOWN_NEXT_PEER carry the
    /// channel's current signed channel_update. At the payee: amount below the onion's
    /// `amt_to_forward` → FINAL_INCORRECT_HTLC_AMOUNT; expiry below `outgoing_cltv_value` →
    /// FINAL_INCORRECT_CLTV_EXPIRY; no handler → INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS; a preimage
    /// not hashing to `paymentHash` is treated the same.
    ///
    /// `owner`: the replica lease the HTLC's holds belong to in the ledger (nil: no leases); a
    /// ledger that finds the owner may no longer write refuses the reservation
    /// (TEMPORARY_CHANNEL_FAILURE at that hop, like any refused reservation).
    public func send(route: SourceRoute, paymentHash: [UInt8], owner: LedgerHoldOwner? = nil) async -> HTLCResult {
        let n = route.hops.count
        guard n > 0 else {
            return .failed(HTLCFailure(message: FailureMessage(code: .internalFailure), failureSourceIndex: 0))
        }
        guard let htlcID = try? ledger.nextHTLCID() else {
            return .failed(HTLCFailure(message: FailureMessage(code: .temporaryChannelFailure), failureSourceIndex: 0))
        }
        var locked = false

        for k in 0..<n {
            var step = withLock { forward(route, k) }
            if case .eligible(let c, let d, let amount, let update) = step {
                // The conditional reservation: the only balance check (atomic in the ledger, so
                // concurrent senders on any replica never overdraw the channel).
                let hold = LedgerHold(htlcID: htlcID, hop: k, channel: route.hops[k].chanID, direction: d, amountMsat: amount,
                                      expiry: route.incomingExpiry(ofHop: k), paymentHash: paymentHash, owner: owner)
                if (try? ledger.reserve(hold)) == true {
                    locked = true
                    step = withLock { injectedFailure(k, update) } ?? .eligible(channel: c, direction: d, amount: amount, update: update)
                } else {
                    step = .failed(FailureMessage(code: .temporaryChannelFailure, channelUpdate: update), .insufficientBalance)
                }
            }
            switch step {
            case .failed(let message, let detail):
                if locked { try? ledger.release(htlcID: htlcID) }
                // Node k's link refuses it; every node before it sees the failure come back.
                var events = [htlcEvent(route, k, htlcID: htlcID, .linkFail(message, detail))]
                if k > 0 { events.append(htlcEvent(route, k, htlcID: htlcID, .final(settled: false))) }
                for j in stride(from: k - 1, through: 0, by: -1) {
                    events.append(htlcEvent(route, j, htlcID: htlcID, .forwardFail))
                    if j > 0 { events.append(htlcEvent(route, j, htlcID: htlcID, .final(settled: false))) }
                }
                publish(events)
                await delay(hops: k)
                return .failed(HTLCFailure(message: message, failureSourceIndex: k))
            case .eligible:
                publish([htlcEvent(route, k, htlcID: htlcID, .forward)])
                await delay(hops: 1)
            }
        }

        // The payee (source index n).
        let final = route.hops[n - 1]
        let received = route.incomingAmountMsat(ofHop: n - 1)
        let receivedExpiry = route.incomingExpiry(ofHop: n - 1)
        let (handler, currentHeight) = withLock { (payeeHandlers[final.pubKey], height) }
        var decision: PayeeDecision
        if received < final.amtToForwardMsat {
            decision = .fail(FailureMessage(code: .finalIncorrectHtlcAmount, htlcMsat: received))
        } else if receivedExpiry < final.expiry {
            decision = .fail(FailureMessage(code: .finalIncorrectCltvExpiry, cltvExpiry: receivedExpiry))
        } else if let handler {
            let payload = FinalHopPayload(amountMsat: final.amtToForwardMsat, outgoingCLTV: final.expiry,
                                          totalAmountMsat: final.mppRecord?.totalAmountMsat ?? final.amtToForwardMsat,
                                          paymentAddr: final.mppRecord?.paymentAddr, customRecords: final.customRecords)
            decision = await handler.handle(PayeeHTLC(node: final.pubKey, htlcID: htlcID, paymentHash: paymentHash,
                                                         amountMsat: received, cltvExpiry: receivedExpiry,
                                                         incomingChannel: final.chanID, currentHeight: currentHeight,
                                                         payload: payload))
        } else {
            decision = .fail(.incorrectOrUnknownPaymentDetails(htlcMsat: received, height: currentHeight))
        }
        if case .settle(let preimage) = decision, SHA256.hash(preimage) != paymentHash {
            decision = .fail(.incorrectOrUnknownPaymentDetails(htlcMsat: received, height: blockHeight))
        }
        switch decision {
        case .settle(let preimage):
            var events = [htlcEvent(route, n, htlcID: htlcID, .settle(preimage: preimage)),
                          htlcEvent(route, n, htlcID: htlcID, .final(settled: true))]
            for j in stride(from: n - 1, through: 0, by: -1) {
                events.append(htlcEvent(route, j, htlcID: htlcID, .settle(preimage: preimage)))
                if j > 0 { events.append(htlcEvent(route, j, htlcID: htlcID, .final(settled: true))) }
            }
            publish(events)
            // The preimage is out: the payment succeeded whatever the ledger says. A ledger that
            // cannot be reached keeps the amounts locked (never spendable twice).
            try? ledger.settle(htlcID: htlcID)
            await delay(hops: n)
            return .settled(preimage: preimage)
        case .fail(let message):
            try? ledger.release(htlcID: htlcID)
            let detail: HTLCEvent.LinkFailure = message.code == .mppTimeout ? .mppInvoiceTimeout : .invoiceRefused
            var events = [htlcEvent(route, n, htlcID: htlcID, .linkFail(message, detail)),
                          htlcEvent(route, n, htlcID: htlcID, .final(settled: false))]
            for j in stride(from: n - 1, through: 0, by: -1) {
                events.append(htlcEvent(route, j, htlcID: htlcID, .forwardFail))
                if j > 0 { events.append(htlcEvent(route, j, htlcID: htlcID, .final(settled: false))) }
            }
            publish(events)
            await delay(hops: n)
            return .failed(HTLCFailure(message: message, failureSourceIndex: n))
        }
    }

    /// Callback form of `send(route:paymentHash:)`; `completion` runs on a task of its own.
    public func send(route: SourceRoute, paymentHash: [UInt8], owner: LedgerHoldOwner? = nil,
                     completion: @escaping @Sendable (HTLCResult) -> Void) {
        Task { completion(await self.send(route: route, paymentHash: paymentHash, owner: owner)) }
    }

    enum ForwardStep {
        /// Every check but the balance passed: reserve `amount` on `direction` of channel index `channel`.
        case eligible(channel: Int, direction: Int, amount: UInt64, update: ChannelUpdate?)
        case failed(FailureMessage, HTLCEvent.LinkFailure)
    }

    /// The checks of the node at source index `k` forwarding over `route.hops[k].chanID`
    /// (lock held), all but the spendable balance, which the ledger's reservation checks.
    func forward(_ route: SourceRoute, _ k: Int) -> ForwardStep {
        let hop = route.hops[k]
        guard let from = route.node(atSourceIndex: k), let f = nodeIndex[from],
              let c = channelIndex[hop.chanID], let d = channels[c].direction(from: f),
              let next = nodeIndex[hop.pubKey], channels[c].endpoint(1 - d) == next, nodes[next].online
        else { return .failed(FailureMessage(code: .unknownNextPeer), .noDetail) }
        let ch = channels[c]
        guard let policy = ch.policy[d] else { return .failed(FailureMessage(code: .unknownNextPeer), .noDetail) }
        let update = channelUpdate(c, direction: d)
        let outAmount = route.incomingAmountMsat(ofHop: k)
        let outExpiry = route.incomingExpiry(ofHop: k)
        if policy.disabled {
            return .failed(FailureMessage(code: .channelDisabled, channelUpdate: update, disabledFlags: 0), .linkNotEligible)
        }
        if outAmount < policy.minHTLCMsat {
            return .failed(FailureMessage(code: .amountBelowMinimum, htlcMsat: outAmount, channelUpdate: update), .noDetail)
        }
        if outAmount > policy.maxHTLCMsat {
            return .failed(FailureMessage(code: .temporaryChannelFailure, channelUpdate: update), .htlcExceedsMax)
        }
        if k > 0 {
            // A forwarding node (not the sender) enforces its fee and CLTV delta.
            let inAmount = route.incomingAmountMsat(ofHop: k - 1)
            let inExpiry = route.incomingExpiry(ofHop: k - 1)
            let fee = policy.fee(forwarding: outAmount)
            if inAmount < outAmount || inAmount - outAmount < fee {
                return .failed(FailureMessage(code: .feeInsufficient, htlcMsat: inAmount, channelUpdate: update), .noDetail)
            }
            if inExpiry < outExpiry || inExpiry - outExpiry < policy.timeLockDelta {
                return .failed(FailureMessage(code: .incorrectCltvExpiry, cltvExpiry: inExpiry, channelUpdate: update), .noDetail)
            }
        }
        if outExpiry <= height + configuration.expiryGraceDelta {
            return .failed(FailureMessage(code: .expiryTooSoon, channelUpdate: update), .noDetail)
        }
        return .eligible(channel: c, direction: d, amount: outAmount, update: update)
    }

    /// Failure injection at a forwarding node once its balance was reserved (lock held).
    func injectedFailure(_ k: Int, _ update: ChannelUpdate?) -> ForwardStep? {
        let rate = _temporaryFailureRate ?? configuration.temporaryFailureRate
        if k > 0 && rate > 0 && Double.random(in: 0..<1, using: &rng) < rate {
            return .failed(FailureMessage(code: .temporaryChannelFailure, channelUpdate: update), .noDetail)
        }
        return nil
    }

    func delay(hops: Int) async {
        let latency = configuration.latency
        guard !latency.isZero, hops > 0 else { return }
        let total: UInt64 = withLock { (0..<hops).reduce(0) { acc, _ in acc + latency.sample(&rng) } }
        await configuration.sleeper.sleep(nanoseconds: total)
    }
}
