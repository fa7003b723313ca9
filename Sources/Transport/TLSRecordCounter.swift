/// Counts TLS records in a byte stream (RFC 8446 §5.1: 5-byte header, 2-byte length), fed in
/// arbitrary pieces. `TLSEngine` runs one over everything it hands OpenSSL and one over
/// everything OpenSSL writes once the handshake is done, so the record sequence numbers are
/// known exactly when the compact record layer takes over.
struct TLSRecordCounter {
    /// Complete records seen.
    private(set) var records: UInt64 = 0
    /// Header bytes of the current record seen so far (0...5), and body bytes still to come.
    private var headerSeen = 0
    private var lengthHigh: UInt8 = 0
    private var bodyLeft = 0

    /// True between records.
    var atBoundary: Bool { headerSeen == 0 && bodyLeft == 0 }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        let n = bytes.count
        while i < n {
            if bodyLeft > 0 {
                let take = min(bodyLeft, n - i)
                bodyLeft -= take; i += take
                if bodyLeft == 0 { records += 1 }
                continue
            }
            let b = bytes[i]; i += 1
            headerSeen += 1
            if headerSeen == 4 { lengthHigh = b }
            if headerSeen == 5 {
                headerSeen = 0
                bodyLeft = Int(lengthHigh) << 8 | Int(b)
                if bodyLeft == 0 { records += 1 }
            }
        }
    }
}
