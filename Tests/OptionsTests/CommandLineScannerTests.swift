import Options
import XCTest

final class CommandLineScannerTests: XCTestCase {
    let specs = [
        OptionSpec(names: ["datadir"], placeholder: "DIR"),
        OptionSpec(names: ["rpclisten"], placeholder: "HOST:PORT", repeatable: true),
        OptionSpec(names: ["no-macaroons"], placeholder: nil),
        OptionSpec(names: ["debuglevel", "d"], placeholder: "LEVEL"),
    ]

    func testValuesSwitchesAndPositionals() throws {
        let r = try CommandLineScanner.scan(["--datadir", "/x", "-d=debug", "pos", "--no-macaroons=false",
                                             "--rpclisten=a:1", "-rpclisten", "b:2", "-5", "--", "--datadir"], specs: specs)
        XCTAssertEqual(r.occurrences.map(\.index), [0, 3, 2, 1, 1])
        XCTAssertEqual(r.occurrences.map(\.value), ["/x", "debug", "false", "a:1", "b:2"])
        XCTAssertEqual(r.occurrences[1].name, "d")
        XCTAssertEqual(r.positionals, ["pos", "-5", "--datadir"])
        XCTAssertTrue(r.occurrences.allSatisfy { $0.source == .commandLine })
    }

    func testStopAtFirstPositionalReturnsTheRest() throws {
        let r = try CommandLineScanner.scan(["--no-macaroons", "cmd", "--datadir", "x"], specs: specs, stopAtFirstPositional: true)
        XCTAssertEqual(r.occurrences.count, 1)
        XCTAssertEqual(r.rest, ["cmd", "--datadir", "x"])
        XCTAssertEqual(r.positionals, [])
    }

    func testErrors() {
        XCTAssertThrowsError(try CommandLineScanner.scan(["--bogus"], specs: specs)) { XCTAssertEqual($0 as? OptionError, .unknownFlag("bogus")) }
        XCTAssertThrowsError(try CommandLineScanner.scan(["--datadir"], specs: specs)) {
            XCTAssertEqual($0 as? OptionError, .missingValue(name: "datadir", placeholder: "DIR"))
        }
        XCTAssertThrowsError(try CommandLineScanner.scan(["--no-macaroons=maybe"], specs: specs)) {
            XCTAssertEqual($0 as? OptionError, .invalidSwitchValue(name: "no-macaroons", value: "maybe", source: .commandLine))
        }
        XCTAssertThrowsError(try CommandLineScanner.scan(["--datadir=a", "-datadir", "b"], specs: specs)) {
            XCTAssertEqual($0 as? OptionError, .repeated(name: "datadir", source: .commandLine))
        }
        XCTAssertThrowsError(try CommandLineScanner.scan(["--bogus", "-h"], specs: specs)) { XCTAssertEqual($0 as? OptionError, .unknownFlag("bogus")) }
        XCTAssertThrowsError(try CommandLineScanner.scan(["-h", "--bogus"], specs: specs)) { XCTAssertEqual($0 as? OptionError, .helpRequested) }
    }

    func testSwitchSpellingsAreGoParseBools() throws {
        for (text, on) in [("1", true), ("t", true), ("TRUE", true), ("True", true), ("0", false), ("f", false), ("FALSE", false)] {
            let r = try CommandLineScanner.scan(["--no-macaroons=\(text)"], specs: specs)
            XCTAssertEqual(r.occurrences.first?.isOn, on, text)
        }
        XCTAssertNil(SwitchValue.parse("yes"))
    }
}
