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
        // Daemon.run stopped every listener and loop and closed the stores, but a loop's thread may
        // still be ending, running OpenSSL's per-thread destructors; `exit` would run OpenSSL's
        // atexit cleanup beside them, freeing what they touch (a SIGSEGV at exit, seen once in
        // the interop suite's test server). So the process ends without exit's handlers: nothing
        // is left for them (log lines are single write(2)s), and stdio is flushed first.
        fflush(nil)
        _exit(code)
    }
} catch {
    FileHandle.standardError.write(Data("paytrackd: \(error)\n".utf8))
    exit(1)
}
