import JSON
import XCTest

final class JSONParserTests: XCTestCase {
    func parse(_ s: String, _ limits: JSONParser.Limits = .init()) throws(JSONError) -> JSONValue {
        try JSONParser(limits: limits).parse(s)
    }

    func error(_ s: String, _ limits: JSONParser.Limits = .init()) -> JSONError? {
        do { _ = try parse(s, limits); return nil } catch { return error }
    }

    func testValues() throws {
        XCTAssertEqual(try parse(" null "), .null)
        XCTAssertEqual(try parse("true"), .bool(true))
        XCTAssertEqual(try parse("false"), .bool(false))
        XCTAssertEqual(try parse("-0.5e+10"), .number("-0.5e+10"))
        XCTAssertEqual(try parse(#""a\"b\\c\/\b\f\n\r\t\u00e9\ud83d\ude00""#), .string("a\"b\\c/\u{8}\u{c}\n\r\té😀"))
        XCTAssertEqual(try parse(#"[1, [], {}, "x"]"#), .array([.number("1"), .array([]), .object([]), .string("x")]))
        let o = try parse(#"{"b": 1, "a": {"c": null}}"#)
        XCTAssertEqual(o, .object([JSONMember("b", .number("1")), JSONMember("a", .object([JSONMember("c", .null)]))]))
        XCTAssertEqual(o["a"]?["c"], .null)
        XCTAssertNil(o["z"])
        XCTAssertEqual(try parse("\"☕\""), .string("☕"))
    }

    func testNumbersKeepPrecision() throws {
        let v = try parse("18446744073709551615")
        XCTAssertEqual(v.uint64, .max)
        XCTAssertNil(v.int64)
        XCTAssertEqual(try parse("-9223372036854775808").int64, .min)
        XCTAssertNil(try parse("9223372036854775808").int64)
        XCTAssertEqual(try parse("1e3").int64, 1000)
        XCTAssertEqual(try parse("1.50e1").int64, 15)
        XCTAssertEqual(try parse("100e-2").int64, 1)
        XCTAssertNil(try parse("1.5").int64)
        XCTAssertNil(try parse("1e400").int64)
        XCTAssertEqual(try parse("-0").int64, 0)
        XCTAssertNil(try parse("-1").uint64)
        XCTAssertEqual(try parse("0.25").double, 0.25)
    }

    func testSyntaxErrors() {
        XCTAssertEqual(error(""), .unexpectedEnd)
        XCTAssertEqual(error("[1,"), .unexpectedEnd)
        XCTAssertEqual(error(#"{"a" 1}"#), .unexpectedCharacter(UInt8(ascii: "1"), offset: 5))
        XCTAssertEqual(error("[1,]"), .unexpectedCharacter(UInt8(ascii: "]"), offset: 3))
        XCTAssertEqual(error(#"{"a":1,}"#), .unexpectedCharacter(UInt8(ascii: "}"), offset: 7))
        XCTAssertEqual(error("01"), .invalidNumber(offset: 0))
        XCTAssertEqual(error("1."), .invalidNumber(offset: 0))
        XCTAssertEqual(error("-"), .unexpectedEnd)
        XCTAssertEqual(error("+1"), .unexpectedCharacter(UInt8(ascii: "+"), offset: 0))
        XCTAssertEqual(error("1e"), .invalidNumber(offset: 0))
        XCTAssertEqual(error("NaN"), .unexpectedCharacter(UInt8(ascii: "N"), offset: 0))
        XCTAssertEqual(error("tru"), .unexpectedEnd)
        XCTAssertEqual(error("nul1"), .unexpectedCharacter(UInt8(ascii: "1"), offset: 3))
        XCTAssertEqual(error("1 2"), .trailingData(offset: 2))
        XCTAssertEqual(error("// c\n1"), .unexpectedCharacter(UInt8(ascii: "/"), offset: 0))
        XCTAssertEqual(error(#"{"a":1,"a":2}"#), .duplicateKey("a", offset: 7))
        XCTAssertEqual(error("{1:2}"), .unexpectedCharacter(UInt8(ascii: "1"), offset: 1))
        // Repeated keys are found in small objects (scanned) and large ones (a set past 16 keys).
        for n in [3, 15, 16, 17, 40] {
            let members = (0..<n).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
            XCTAssertNoThrow(try parse("{" + members + "}"))
            for dup in [0, n - 1] {
                XCTAssertEqual(error("{" + members + ",\"k\(dup)\":0}"), .duplicateKey("k\(dup)", offset: members.utf8.count + 2), "\(n)")
            }
        }
    }

    func testStringsASCIIAndNot() throws {
        XCTAssertEqual(try parse(#"["plain","ünï","a\"b","€\u00e9"]"#), .array([.string("plain"), .string("ünï"), .string("a\"b"), .string("€é")]))
        XCTAssertEqual(try parse(#"{"ké":"v","k":"ü"}"#)["ké"], .string("v"))
        var w = JSONWriter()
        w.write(.string("ab\u{1}cd\"ef\\"))
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), #""ab\u0001cd\"ef\\""#)
    }

    func testStringErrors() {
        XCTAssertEqual(error(#""abc"#), .unexpectedEnd)
        XCTAssertEqual(error("\"a\nb\""), .controlCharacterInString(offset: 2))
        XCTAssertEqual(error(#""\x""#), .invalidEscape(offset: 1))
        XCTAssertEqual(error(#""\u12G4""#), .invalidEscape(offset: 5))
        XCTAssertEqual(error(#""\ud800""#), .invalidEscape(offset: 1))          // lone high surrogate
        XCTAssertEqual(error(#""\udc00""#), .invalidEscape(offset: 1))          // lone low surrogate
        XCTAssertEqual(error(#""\ud800\u0041""#), .invalidEscape(offset: 1))    // high + non-low
        XCTAssertEqual(try? JSONParser().parse([0x22, 0xFF, 0x22]), nil)
        XCTAssertEqual(error(String(decoding: [0x22, 0x61, 0x5C, 0x6E, 0x22], as: UTF8.self)), nil)
        do { _ = try JSONParser().parse([0x22, 0xC3, 0x28, 0x22]); XCTFail() } catch {
            XCTAssertEqual(error, .invalidUTF8(offset: 1))
        }
        do { _ = try JSONParser().parse([0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22]); XCTFail() } catch {
            XCTAssertEqual(error, .invalidUTF8(offset: 1))
        }
    }

    func testLimits() {
        let limits = JSONParser.Limits(maximumDepth: 3, maximumBytes: 20)
        XCTAssertNoThrow(try parse("[[[1]]]", limits))
        XCTAssertEqual(error("[[[[1]]]]", limits), .tooDeep(offset: 3))
        XCTAssertEqual(error(#"{"a":{"b":{"c":{}}}}"#, limits), .tooDeep(offset: 15))
        XCTAssertEqual(error(String(repeating: " ", count: 21) + "1", limits), .tooLarge(22))
        // Default limits: deep nesting is refused without exhausting the stack.
        XCTAssertEqual(error(String(repeating: "[", count: 100_000)), .tooDeep(offset: 64))
    }

    func testWriterRoundTrip() throws {
        let text = #"{"s":"q\"\\\n\t\u0001☕","n":-1.5e3,"a":[true,false,null],"o":{}}"#
        let v = try parse(text)
        XCTAssertEqual(JSONWriter.string(v), text)
        XCTAssertEqual(try parse(JSONWriter.string(v)), v)
        var w = JSONWriter()
        w.write(.string("\u{7f}/"))
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), "\"\u{7f}/\"")
        w.reset()
        XCTAssertEqual(w.bytes, [])
    }

    func testDoubleFormatting() {
        XCTAssertEqual(JSONValue.double(1), .number("1"))
        XCTAssertEqual(JSONValue.double(-0.0), .number("-0"))
        XCTAssertEqual(JSONValue.double(0.1), .number("0.1"))
        XCTAssertEqual(JSONValue.double(-2.5), .number("-2.5"))
        XCTAssertEqual(JSONValue.double(1e300).double, 1e300)
    }
}
