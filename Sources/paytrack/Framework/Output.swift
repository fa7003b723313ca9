import Locks
import Foundation
import JSON
import LightningRPC

/// Everything `paytrack` writes. Responses go to stdout as LND REST-gateway JSON (proto names,
/// every field present, int64 as strings, enums by name, bytes base64 — or hex with
/// `--hexbytes`, as lncli shows them), pretty-printed as lncli prints (`protojson` multiline,
/// four-space indent). Each message is flushed at once, so a
/// stream's updates appear as they arrive. Errors go to stderr as `[paytrack] <error>`.
enum Output {
    static let program = "paytrack"

    /// `--hexbytes`: show bytes fields as hex, as lncli does (set once, before any call).
    static let hexBytes = LockedBox(false)

    /// Pretty-prints `message` as gateway JSON, one JSON document followed by a newline.
    static func printMessage<M: GatewayJSONMessage>(_ message: M) {
        printJSON(message.gatewayJSON(), messageName: M.protoMessageName)
    }

    /// Prints `value`; when it is a message (`messageName`) and `--hexbytes` is on, its bytes
    /// fields are shown as hex (``HexBytes``).
    static func printJSON(_ value: JSONValue, messageName: String? = nil) {
        var out = PrettyJSON()
        let shown = hexBytes.value && messageName != nil ? HexBytes.convert(value, messageName: messageName!) : value
        out.write(shown, depth: 0)
        out.bytes.append(0x0A)
        writeStdout(out.bytes)
    }

    /// A line of plain text on stdout.
    static func printLine(_ text: String) { writeStdout(Array((text + "\n").utf8)) }

    /// `[paytrack] <error>` on stderr.
    static func printError(_ error: any Error) {
        writeAll(2, Array("[\(program)] \(error)\n".utf8))
    }

    private static let stdoutLock = Lock()

    static func writeStdout(_ bytes: [UInt8]) {
        stdoutLock.lock()
        defer { stdoutLock.unlock() }
        writeAll(1, bytes)
    }

    /// write(2) until done (unbuffered, so each message appears at once); gives up on error.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            off += n
        }
    }
}

/// Multi-line JSON with a four-space indent: `{` newline, `"key": value` per line, `}`; empty
/// arrays and objects stay `[]` / `{}`. Strings are escaped by ``JSONWriter``.
struct PrettyJSON {
    var bytes: [UInt8] = []
    private var scratch = JSONWriter(capacity: 64)

    mutating func write(_ value: JSONValue, depth: Int) {
        switch value {
        case .array(let elements) where !elements.isEmpty:
            bytes.append(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                write(e, depth: depth + 1)
            }
            newline(depth)
            bytes.append(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            bytes.append(UInt8(ascii: "{"))
            for (i, m) in members.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                writeScalar(.string(m.key))
                bytes.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
                write(m.value, depth: depth + 1)
            }
            newline(depth)
            bytes.append(UInt8(ascii: "}"))
        default:
            writeScalar(value)
        }
    }

    private mutating func writeScalar(_ value: JSONValue) {
        scratch.reset()
        scratch.write(value)
        bytes.append(contentsOf: scratch.bytes)
    }

    private mutating func newline(_ depth: Int) {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 4))
    }
}
