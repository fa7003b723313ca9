import Dispatch
import Foundation
import GRPC
import RPCCore

/// Ctrl-C (SIGINT) handling: while a call is running, the first SIGINT cancels it (the server
/// sees RST_STREAM CANCEL, as when lncli's context is cancelled) the connection is closed and the
/// command ends quietly with exit status 130; with no call running, or on a second SIGINT, the process exits
/// at once with 130.
enum Interrupt {
    private static let state = LockedBox<(call: ClientCall?, interrupted: Bool)>((nil, false))
    nonisolated(unsafe) private static var source: DispatchSourceSignal?

    /// Installs the handler (once, from main).
    static func install() {
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler {
            let current = state.value
            if current.interrupted || current.call == nil { exit(130) }
            state.value = (current.call, true)
            current.call?.cancel()
        }
        s.resume()
        source = s
    }

    /// Registers the running call (nil when it ends).
    static func setActive(_ call: ClientCall?) {
        let current = state.value
        state.value = (call, current.interrupted)
        if call != nil && current.interrupted { call?.cancel() }
    }

    static var wasInterrupted: Bool { state.value.interrupted }

    /// Thrown by a call that ended because of Ctrl-C; the application exits 130 without a message.
    struct Interrupted: Error {}
}
