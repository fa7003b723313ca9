import Foundation
import Node

// paytrackd: flags, config and wiring only; everything else lives in Node.
do {
    switch try Config.parse(Array(CommandLine.arguments.dropFirst())) {
    case .help(let text):
        print(text, terminator: "")
        exit(0)
    case .version(let text):
        print(text)
        exit(0)
    case .run(let config):
        let code = try Daemon.run(config: config)
        // Daemon.run stopped every listener, joined the loops' threads and closed the stores; other
        // threads (a store's writer, the reaper) may still be ending, running OpenSSL's and Swift's
        // per-thread destructors, and `exit` would run OpenSSL's atexit cleanup beside them,
        // freeing what they touch (a SIGSEGV at exit, seen once in the interop suite's test server
        // before loops were joined). So the process ends without exit's handlers: nothing is left
        // for them (log lines are single write(2)s), and stdio is flushed first.
        fflush(nil)
        _exit(code)
    }
} catch {
    FileHandle.standardError.write(Data("paytrackd: \(error)\n".utf8))
    exit(1)
}
