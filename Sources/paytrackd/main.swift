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
        exit(try Daemon.run(config: config))
    }
} catch {
    FileHandle.standardError.write(Data("paytrackd: \(error)\n".utf8))
    exit(1)
}
