import Locks
import Foundation
import GRPC
import RPCCore
import LightningRPC
import ProtoWire

/// One TLS connection to the node (certificate pinned from `--tlscertpath`, as lncli pins
/// tls.cert) plus the per-call metadata (the macaroon, unless `--no-macaroons`).
///
/// Contract: `unary` and `serverStreaming` block the calling (main) thread until the call ends;
/// non-OK statuses become ``CLIError/rpc(_:)``. Stream messages are delivered in order on the
/// client's loop thread. A failure to connect is reported as lncli reports it:
/// `rpc error: code = Unavailable desc = connection error: ...`.
final class RPCConnection: @unchecked Sendable {
    let client: GRPCClient
    /// Sent with every call: the macaroon, plus anything a command adds before its call.
    var metadata: Metadata
    let timeout: Duration?

    init(options: GlobalOptions) throws(CLIError) {
        var md = Metadata()
        if !options.noMacaroons {
            let credential = try MacaroonCredential(path: options.resolvedMacaroonPath,
                                                    timeoutSeconds: options.macaroonTimeoutSeconds, ip: options.macaroonIP)
            md.add("macaroon", credential.hex)
        }
        metadata = md
        timeout = options.timeout
        let certPath = options.resolvedCertPath
        guard FileManager.default.isReadableFile(atPath: certPath) else {
            throw .failure("could not load TLS certificate: open \(certPath): no such file or directory")
        }
        let (host, port) = options.hostAndPort
        do {
            client = try GRPCClient(host: host, port: port, trustedCertificatePath: certPath)
        } catch {
            throw .rpc(GRPCStatus(.unavailable, "connection error: desc = \"transport: error while dialing \(options.rpcServer): \(error)\""))
        }
    }

    func close() { client.close() }

    /// A unary call with raw bytes.
    func unaryBytes(path: String, request: [UInt8]) throws(CLIError) -> [UInt8] {
        do {
            return try client.unarySync(path: path, request: request, metadata: metadata, timeout: timeout)
        } catch {
            throw .rpc(error)
        }
    }

    /// A typed unary call.
    func unary<Response: GatewayJSONMessage>(_ path: String, _ request: some ProtoMessage,
                                             as _: Response.Type = Response.self) throws(CLIError) -> Response {
        let bytes = try unaryBytes(path: path, request: request.serializedBytes())
        return try Self.decode(Response.self, bytes)
    }

    /// A server-streaming call with raw bytes; returns when the stream ends. `onMessage` may
    /// throw to stop the stream (the call is cancelled and the error rethrown).
    func serverStreamingBytes(path: String, request: [UInt8],
                              onMessage: @escaping @Sendable ([UInt8]) throws -> Void) throws {
        let failure = LockedBox<Error?>(nil)
        let callBox = LockedBox<ClientCall?>(nil)
        let latch = DispatchSemaphore(value: 0)
        let status = LockedBox<GRPCStatus>(.ok)
        let call = client.serverStreaming(path: path, request: request, metadata: metadata, timeout: timeout,
                                          onMessage: { bytes in
            guard failure.value == nil else { return }
            do { try onMessage(bytes) } catch {
                failure.value = error
                callBox.value?.cancel()
            }
        }, onFinish: { s in
            status.value = s
            latch.signal()
        })
        callBox.value = call
        if failure.value != nil { call.cancel() }
        Interrupt.setActive(call)
        latch.wait()
        Interrupt.setActive(nil)
        if Interrupt.wasInterrupted { throw Interrupt.Interrupted() }
        if let e = failure.value { throw e }
        let s = status.value
        if s.code != .ok { throw CLIError.rpc(s) }
    }

    /// A typed server-streaming call.
    func serverStreaming<Response: GatewayJSONMessage>(_ path: String, _ request: some ProtoMessage, as _: Response.Type,
                                                       onMessage: @escaping @Sendable (Response) throws -> Void) throws {
        try serverStreamingBytes(path: path, request: request.serializedBytes()) { bytes in
            try onMessage(try Self.decode(Response.self, bytes))
        }
    }

    static func decode<M: ProtoMessage>(_: M.Type, _ bytes: [UInt8]) throws(CLIError) -> M {
        do { return try M(serializedBytes: bytes) } catch {
            throw .failure("unable to decode \(M.protoMessageName) response: \(error)")
        }
    }
}

/// A value shared between the main thread and the client loop thread.
final class LockedBox<T>: @unchecked Sendable {
    private let lock = Lock()
    private var stored: T
    init(_ v: T) { stored = v }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
