import COpenSSL

/// The record layer of an established TLS 1.3 connection (RFC 8446 §5), in user space: what
/// Linux kTLS does in the kernel. OpenSSL performed the handshake; `TLSEngine` hands over the
/// connection's application traffic secrets and record sequence numbers once it is quiescent and
/// frees its `SSL` object. From then on this session protects and verifies records itself, with
/// OpenSSL's AEAD (`TLSRecordCrypto`) and HKDF (`TLSRecordCipher.expandLabel`): it implements
/// framing, not cryptography.
///
/// Pure: ciphertext in (`feed`), plaintext out (`readPlaintext`), plaintext in (`seal`),
/// ciphertext out (`takeCiphertext`); no socket, no clock.
///
/// What it does (RFC 8446):
/// - §5.2/§5.3: nonce = iv XOR the 64-bit record sequence number; additional data = the record
///   header; the inner content type is the last non-zero byte (zero padding is stripped).
/// - §5.1/§5.2: records larger than 2^14 + 256 bytes of ciphertext (or 2^14 + 1 of inner plaintext)
///   -> fatal `record_overflow`; a record that does not authenticate -> fatal `bad_record_mac`;
///   an outer type other than application_data, an inner type other than application_data, alert
///   or a KeyUpdate handshake message -> fatal `unexpected_message`; a malformed alert or
///   KeyUpdate -> fatal `decode_error`. After a fatal alert nothing more is read or sent.
/// - §6.1: `close_notify` -> `.closed`, answered with our own `close_notify`; any other alert from
///   the peer ends the connection (`user_canceled` is ignored: a `close_notify` follows it).
/// - §4.6.3: KeyUpdate -> the receive secret is advanced ("traffic upd") and its sequence restarts;
///   with `update_requested` we send KeyUpdate(update_not_requested) and advance ours.
/// Memory: keys and sequence numbers; received ciphertext is buffered only while a record is
/// incomplete (at most one record beyond what the caller fed in one go); sealed output until taken.
struct TLSRecordLayer {
    /// Where the connection stands.
    enum State: Equatable {
        case open
        /// The peer sent close_notify (ours is queued): nothing more is read.
        case peerClosed
        /// A fatal alert was sent or received: nothing more is read or sent.
        case failed
    }

    /// RFC 8446 §6 alert descriptions this layer sends.
    enum Alert: UInt8 {
        case closeNotify = 0, unexpectedMessage = 10, badRecordMAC = 20, recordOverflow = 22, decodeError = 50
        case userCanceled = 90, internalError = 80
    }

    /// One direction's traffic keys (RFC 8446 §7.3).
    struct Direction {
        /// secret (hash length) | key | iv, in one allocation.
        fileprivate var material: [UInt8]
        var sequence: UInt64
        let cipher: TLSRecordCipher

        init?(cipher: TLSRecordCipher, secret: [UInt8], sequence: UInt64) {
            guard secret.count == cipher.secretLength else { return nil }
            guard var k = secret.withUnsafeBytes({ cipher.expandLabel($0, "key", length: cipher.keyLength) }),
                  var iv = secret.withUnsafeBytes({ cipher.expandLabel($0, "iv", length: TLSRecordCipher.ivLength) })
            else { return nil }
            self.cipher = cipher
            material = secret + k + iv
            self.sequence = sequence
            TLSRecordLayer.zero(&k); TLSRecordLayer.zero(&iv)   // only `material` keeps key material
        }

        var secretRange: Range<Int> { 0..<cipher.secretLength }

        /// RFC 8446 §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).
        func next() -> Direction? {
            guard var s = material.withUnsafeBytes({ cipher.expandLabel(UnsafeRawBufferPointer(rebasing: $0[secretRange]), "traffic upd", length: cipher.secretLength) })
            else { return nil }
            defer { TLSRecordLayer.zero(&s) }
            return Direction(cipher: cipher, secret: s, sequence: 0)
        }

        /// Calls `body` with the key and this record's nonce (iv XOR the padded sequence number).
        func withKeyAndNonce<R>(_ body: (UnsafePointer<UInt8>, UnsafePointer<UInt8>) -> R) -> R {
            material.withUnsafeBufferPointer { m in
                let key = m.baseAddress! + cipher.secretLength
                let iv = key + cipher.keyLength
                var nonce: (UInt64, UInt32) = (0, 0)
                return withUnsafeMutableBytes(of: &nonce) { n in
                    let p = n.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    for i in 0..<TLSRecordCipher.ivLength { p[i] = iv[i] }
                    for i in 0..<8 { p[4 + i] ^= UInt8(truncatingIfNeeded: sequence >> (8 * UInt64(7 - i))) }
                    return body(key, UnsafePointer(p))
                }
            }
        }

        mutating func wipe() { TLSRecordLayer.zero(&material) }
    }

    /// Overwrites key material before its buffer is let go of (OpenSSL's cleanse: not optimized away).
    static func zero(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { if let p = $0.baseAddress { OPENSSL_cleanse(p, $0.count) } }
    }

    static let maxPlaintext = 16384
    static let maxCiphertext = 16384 + 256
    static let headerLength = 5

    private(set) var state = State.open
    private var read: Direction
    private var write: Direction
    /// Received ciphertext not yet processed, from `inStart`.
    private var inbox: [UInt8] = []
    private var inStart = 0
    /// Decrypted application data of the current record not yet returned (`inbox` indices), and
    /// where that record ends.
    private var plainStart = 0, plainEnd = 0, recordEnd = 0
    /// Sealed records not yet taken, from `outStart`.
    private var outbox: [UInt8] = []
    private var outStart = 0
    private var closeNotifySent = false

    /// A server's record layer: `readSecret` is client_application_traffic_secret_0 and
    /// `writeSecret` server_application_traffic_secret_0 (a client's the other way round);
    /// the sequence numbers are the records each way since those keys took effect.
    init?(cipherSuite: UInt16, readSecret: [UInt8], writeSecret: [UInt8], readSequence: UInt64, writeSequence: UInt64) {
        guard let c = TLSRecordCipher(rawValue: cipherSuite),
              let r = Direction(cipher: c, secret: readSecret, sequence: readSequence),
              let w = Direction(cipher: c, secret: writeSecret, sequence: writeSequence)
        else { return nil }
        read = r; write = w
    }

    /// Zeroes the keys (the connection is gone).
    mutating func wipe() { read.wipe(); write.wipe() }

    /// Read sequence number (the next record expected) and write sequence number (for tests).
    var sequenceNumbers: (read: UInt64, write: UInt64) { (read.sequence, write.sequence) }

    // MARK: Input

    /// Takes ciphertext received from the peer (copied; processed by `readPlaintext`).
    mutating func feed(_ p: UnsafeRawPointer, _ n: Int) {
        guard n > 0, state == .open else { return }
        inbox.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
    }

    /// Returns the next application data (up to `cap` bytes), `.wantMore` until a whole record
    /// arrived, `.closed` after the peer's close_notify, `.failed` after a fatal alert (ours is
    /// then queued in the output).
    mutating func readPlaintext(into buf: UnsafeMutableRawPointer, cap: Int, crypto: TLSRecordCrypto) -> TLSEngine.ReadResult {
        while true {
            if plainStart < plainEnd {
                let n = min(cap, plainEnd - plainStart)
                inbox.withUnsafeBytes { buf.copyMemory(from: $0.baseAddress! + plainStart, byteCount: n) }
                plainStart += n
                if plainStart == plainEnd { consumeRecord() }
                return .bytes(n)
            }
            switch state {
            case .open: break
            case .peerClosed: return .closed
            case .failed: return .failed
            }
            let avail = inbox.count - inStart
            guard avail >= TLSRecordLayer.headerLength else { compactInbox(); return .wantMore }
            let (type, length) = inbox.withUnsafeBufferPointer { b -> (UInt8, Int) in
                (b[inStart], Int(b[inStart + 3]) << 8 | Int(b[inStart + 4]))
            }
            if length > TLSRecordLayer.maxCiphertext { return fatal(.recordOverflow, crypto) }
            if type != 23 { return fatal(.unexpectedMessage, crypto) }   // after the handshake every record is application_data
            guard avail >= TLSRecordLayer.headerLength + length else { compactInbox(); return .wantMore }
            if length < TLSRecordCipher.tagLength + 1 { return fatal(.badRecordMAC, crypto) }
            if read.sequence == .max { return fatal(.internalError, crypto) }
            let body = inStart + TLSRecordLayer.headerLength
            let count = length - TLSRecordCipher.tagLength
            let direction = read
            let ok = inbox.withUnsafeMutableBufferPointer { b -> Bool in
                let aad = UnsafeRawBufferPointer(start: b.baseAddress! + inStart, count: TLSRecordLayer.headerLength)
                return direction.withKeyAndNonce { key, nonce in
                    crypto.open(direction.cipher, key: key, nonce: nonce, aad: aad, b.baseAddress! + body, count: count)
                }
            }
            if !ok { return fatal(.badRecordMAC, crypto) }
            read.sequence += 1
            if count > TLSRecordLayer.maxPlaintext + 1 { return fatal(.recordOverflow, crypto) }   // TLSInnerPlaintext incl. padding
            recordEnd = body + length
            // Inner plaintext: content | type | zeros.
            var end = body + count
            let found = inbox.withUnsafeBufferPointer { b -> Bool in
                while end > body && b[end - 1] == 0 { end -= 1 }
                return end > body
            }
            if !found { return fatal(.unexpectedMessage, crypto) }
            end -= 1
            let inner = inbox[end]
            switch inner {
            case 23:
                plainStart = body; plainEnd = end
                if plainStart == plainEnd { consumeRecord() }   // an empty record: read on
            case 21:
                guard end - body == 2 else { return fatal(.decodeError, crypto) }
                let description = inbox[body + 1]
                consumeRecord()
                if description == Alert.closeNotify.rawValue {
                    state = .peerClosed
                    inbox = []; inStart = 0
                    sendCloseNotify(crypto: crypto)
                    return .closed
                }
                if description == Alert.userCanceled.rawValue { continue }
                state = .failed   // the peer's error: not answered with an alert
                inbox = []; inStart = 0
                return .failed
            case 22:
                // Only KeyUpdate may follow the handshake towards a server (a client sends no
                // NewSessionTicket), and a key change must end its record (RFC 8446 §5.1).
                guard end - body == 5 else { return fatal(end - body >= 1 && inbox[body] == 24 ? .decodeError : .unexpectedMessage, crypto) }
                let (msgType, len1, len2, len3, request) = (inbox[body], inbox[body + 1], inbox[body + 2], inbox[body + 3], inbox[body + 4])
                guard msgType == 24 else { return fatal(.unexpectedMessage, crypto) }
                guard len1 == 0, len2 == 0, len3 == 1, request <= 1 else { return fatal(.decodeError, crypto) }
                consumeRecord()
                guard let nextRead = read.next() else { return fatal(.internalError, crypto) }
                read.wipe()
                read = nextRead
                // update_requested: answer under the current keys, then switch ours (RFC 8446 §4.6.3).
                if request == 1 && !closeNotifySent && !sendKeyUpdate(requestPeerUpdate: false, crypto: crypto) {
                    return fatal(.internalError, crypto)
                }
            default:
                return fatal(.unexpectedMessage, crypto)
            }
        }
    }

    private mutating func consumeRecord() {
        inStart = recordEnd
        plainStart = 0; plainEnd = 0
        if inStart == inbox.count { inbox = []; inStart = 0 }   // nothing pending: hold no buffer
    }

    /// Drops processed bytes so the buffer holds at most the incomplete record.
    private mutating func compactInbox() {
        if inStart == 0 { return }
        if inStart == inbox.count { inbox = []; inStart = 0; return }
        inbox.removeSubrange(0..<inStart)
        inStart = 0
    }

    /// Queues a fatal alert and stops.
    private mutating func fatal(_ alert: Alert, _ crypto: TLSRecordCrypto) -> TLSEngine.ReadResult {
        if state != .failed {
            let a: [UInt8] = [2, alert.rawValue]
            _ = a.withUnsafeBytes { sealRecords($0, contentType: 21, crypto: crypto) }
            state = .failed
        }
        inbox = []; inStart = 0; plainStart = 0; plainEnd = 0
        return .failed
    }

    // MARK: Output

    /// Protects application data (cut into records of at most 2^14 bytes). False once the
    /// connection failed or closed for writing.
    mutating func seal(_ p: UnsafeRawPointer, _ n: Int, crypto: TLSRecordCrypto) -> Bool {
        guard state != .failed, !closeNotifySent else { return false }
        return sealRecords(UnsafeRawBufferPointer(start: p, count: n), contentType: 23, crypto: crypto)
    }

    /// Queues close_notify (once).
    mutating func sendCloseNotify(crypto: TLSRecordCrypto) {
        guard state != .failed, !closeNotifySent else { return }
        let a: [UInt8] = [1, Alert.closeNotify.rawValue]
        _ = a.withUnsafeBytes { sealRecords($0, contentType: 21, crypto: crypto) }
        closeNotifySent = true
    }

    /// Seals `data` as records of `contentType` (cut at 2^14 bytes), each with `padding` zero
    /// bytes after the type (RFC 8446 §5.4; at most what keeps a record within 2^14 + 1 bytes).
    mutating func sealRecords(_ data: UnsafeRawBufferPointer, contentType: UInt8, padding: Int = 0, crypto: TLSRecordCrypto) -> Bool {
        var off = 0
        repeat {
            let chunk = min(TLSRecordLayer.maxPlaintext, data.count - off)
            let pad = max(0, min(padding, TLSRecordLayer.maxPlaintext - chunk))
            let start = outbox.count
            outbox.append(contentsOf: repeatElement(0, count: TLSRecordLayer.recordLength(chunk, padding: pad)))
            let part = UnsafeRawBufferPointer(rebasing: data[off..<off + chunk])
            let direction = write
            let ok = outbox.withUnsafeMutableBufferPointer { b in
                TLSRecordLayer.sealRecord(part, contentType: contentType, padding: pad, at: b.baseAddress! + start,
                                          direction: direction, crypto: crypto)
            }
            if !ok { outbox.removeSubrange(start...); state = .failed; return false }
            write.sequence += 1
            off += chunk
        } while off < data.count
        return true
    }

    /// Seals application data (at most 2^14 bytes) as one record written straight into `dst`
    /// (`cap` bytes), sparing the copy through the outbox: the length written, or nil when that
    /// cannot be done and `seal` must be used (records sealed earlier wait to be taken, `dst` is
    /// too small, too much data, the connection failed or closed for writing).
    mutating func seal(_ p: UnsafeRawPointer, _ n: Int, into dst: UnsafeMutablePointer<UInt8>, cap: Int,
                       crypto: TLSRecordCrypto) -> Int? {
        let length = TLSRecordLayer.recordLength(n)
        guard outStart == outbox.count, n <= TLSRecordLayer.maxPlaintext, length <= cap, state != .failed, !closeNotifySent
        else { return nil }
        guard TLSRecordLayer.sealRecord(UnsafeRawBufferPointer(start: p, count: n), contentType: 23, padding: 0, at: dst,
                                        direction: write, crypto: crypto)
        else { state = .failed; return nil }
        write.sequence += 1
        return length
    }

    /// Header, sealed content, type, padding and tag of a record carrying `n` bytes.
    static func recordLength(_ n: Int, padding: Int = 0) -> Int {
        headerLength + n + 1 + padding + TLSRecordCipher.tagLength
    }

    /// Writes one record (header, then `part`, `contentType` and `padding` zeros sealed) at `h`,
    /// which has room for `recordLength(part.count, padding:)` bytes, under `direction`'s key and
    /// sequence number (the caller advances it). False when the sequence is exhausted or the AEAD
    /// fails (nothing at `h` is then valid).
    private static func sealRecord(_ part: UnsafeRawBufferPointer, contentType: UInt8, padding pad: Int,
                                   at h: UnsafeMutablePointer<UInt8>, direction: Direction, crypto: TLSRecordCrypto) -> Bool {
        if direction.sequence == .max { return false }
        let length = part.count + 1 + pad + TLSRecordCipher.tagLength
        h[0] = 23; h[1] = 3; h[2] = 3; h[3] = UInt8(length >> 8); h[4] = UInt8(length & 0xff)
        // The type and the padding, staged in the record's tag space (sealed in place after the data).
        let trailer = h + TLSRecordLayer.headerLength + part.count
        trailer[0] = contentType
        for i in 0..<pad { trailer[1 + i] = 0 }
        let t = UnsafeRawBufferPointer(start: trailer, count: 1 + pad)
        return direction.withKeyAndNonce { key, nonce in
            crypto.seal(direction.cipher, key: key, nonce: nonce, aad: UnsafeRawBufferPointer(start: h, count: TLSRecordLayer.headerLength),
                        part, t, into: h + TLSRecordLayer.headerLength)
        }
    }

    /// Sends KeyUpdate (RFC 8446 §4.6.3) and advances our traffic secret; with
    /// `requestPeerUpdate` the peer must answer with its own. False once the connection failed.
    mutating func sendKeyUpdate(requestPeerUpdate: Bool, crypto: TLSRecordCrypto) -> Bool {
        guard state != .failed, !closeNotifySent else { return false }
        let keyUpdate: [UInt8] = [24, 0, 0, 1, requestPeerUpdate ? 1 : 0]
        guard keyUpdate.withUnsafeBytes({ sealRecords($0, contentType: 22, crypto: crypto) }), let next = write.next() else {
            state = .failed; return false
        }
        write.wipe()
        write = next
        return true
    }

    /// Bytes of sealed records waiting to be taken.
    var pendingCiphertext: Int { outbox.count - outStart }

    /// Moves up to `cap` bytes of sealed records into `buf`.
    mutating func takeCiphertext(into buf: UnsafeMutableRawPointer, cap: Int) -> Int {
        let n = min(cap, outbox.count - outStart)
        if n == 0 { return 0 }
        outbox.withUnsafeBytes { buf.copyMemory(from: $0.baseAddress! + outStart, byteCount: n) }
        outStart += n
        if outStart == outbox.count { outbox = []; outStart = 0 }   // drained: hold no buffer
        return n
    }
}
