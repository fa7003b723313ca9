import Options
import XCTest

final class ConfigFileParserTests: XCTestCase {
    let specs = [
        OptionSpec(names: ["datadir"], placeholder: "DIR"),
        OptionSpec(names: ["rpclisten"], placeholder: "HOST:PORT", repeatable: true),
        OptionSpec(names: ["no-macaroons"], placeholder: nil),
        OptionSpec(names: ["usestatusinitiated", "routerrpc.usestatusinitiated"], placeholder: nil),
        OptionSpec(names: ["sim.seed"], placeholder: "N"),
        OptionSpec(names: ["debuglevel", "d"], placeholder: "LEVEL"),
    ]

    func parse(_ text: String) throws -> [OptionOccurrence] { try ConfigFileParser.parse(text, path: "/etc/p.conf", specs: specs) }

    func testSampleLndConfShape() throws {
        let text = """
        ; comment
        # another
        [Application Options]
        datadir = /var/lib/pt
        rpclisten=127.0.0.1:1
          rpclisten = "127.0.0.1:2"
        no-macaroons=1

        [routerrpc]
        usestatusinitiated=true

        [sim]
        seed=7\r
        [db]
        """
        let o = try parse(text)
        XCTAssertEqual(o.map(\.index), [0, 1, 1, 2, 3, 4])
        XCTAssertEqual(o.map(\.value), ["/var/lib/pt", "127.0.0.1:1", "127.0.0.1:2", "true", "true", "7"])
        XCTAssertEqual(o[4].name, "routerrpc.usestatusinitiated")
        XCTAssertEqual(o[5].source, .file(path: "/etc/p.conf", line: 13))
    }

    func testKeysBeforeAnySectionAndValuesKeepSemicolons() throws {
        let o = try parse("debuglevel=info,RPCS=debug;x\nSIM.SEED=3\nno-macaroons=\n")
        XCTAssertEqual(o.map(\.value), ["info,RPCS=debug;x", "3", "true"])
    }

    func testQuotedValues() throws {
        XCTAssertEqual(try parse(#"datadir="a \"b\" \\ c""#).first?.value, #"a "b" \ c"#)
        XCTAssertThrowsError(try parse(#"datadir="unterminated"#)) {
            XCTAssertEqual($0 as? OptionError, .malformedLine(path: "/etc/p.conf", line: 1, reason: #"datadir: malformed quoted value "unterminated"#))
        }
    }

    func testErrorsNameFileLineAndKey() {
        let cases: [(String, OptionError, String)] = [
            ("\n[routerrpc]\nbogus=1", .unknownKey(key: "routerrpc.bogus", path: "/etc/p.conf", line: 3), "/etc/p.conf:3: routerrpc.bogus: unknown option"),
            ("datadir=a\n\ndatadir=b", .repeated(name: "datadir", source: .file(path: "/etc/p.conf", line: 3)),
             "/etc/p.conf:3: datadir: given more than once (only repeatable options may be)"),
            ("[sim]\nno-macaroons=1", .unknownKey(key: "sim.no-macaroons", path: "/etc/p.conf", line: 2), "/etc/p.conf:2: sim.no-macaroons: unknown option"),
            ("no-macaroons=yes", .invalidSwitchValue(name: "no-macaroons", value: "yes", source: .file(path: "/etc/p.conf", line: 1)),
             #"/etc/p.conf:1: no-macaroons: invalid boolean value "yes" (use true or false)"#),
            ("datadir", .malformedLine(path: "/etc/p.conf", line: 1, reason: #"malformed key=value "datadir""#), #"/etc/p.conf:1: malformed key=value "datadir""#),
            ("[sim\nseed=1", .malformedLine(path: "/etc/p.conf", line: 1, reason: #"malformed section header "[sim""#), #"/etc/p.conf:1: malformed section header "[sim""#),
            ("d=debug", .unknownKey(key: "d", path: "/etc/p.conf", line: 1), "/etc/p.conf:1: d: unknown option"),
        ]
        for (text, expected, message) in cases {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertEqual(error as? OptionError, expected, text)
                XCTAssertEqual("\(error)", message, text)
            }
        }
    }

    func testOversizedFileIsRefused() {
        let big = String(repeating: "; padding\n", count: ConfigFileParser.maximumBytes / 10 + 1)
        XCTAssertThrowsError(try parse(big)) { error in
            guard case .unreadableFile = error as? OptionError else { return XCTFail("\(error)") }
        }
    }

    func testCommandLineOverridesTheFile() throws {
        let file = try parse("datadir=/f\nrpclisten=a:1\nrpclisten=a:2\nsim.seed=4")
        let cl = try CommandLineScanner.scan(["--rpclisten", "c:3", "--datadir=/c"], specs: specs).occurrences
        let merged = OptionLayers.merge(file: file, commandLine: cl)
        XCTAssertEqual(merged.map(\.value), ["4", "c:3", "/c"])
    }
}
