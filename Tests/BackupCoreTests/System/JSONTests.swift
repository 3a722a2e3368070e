import Foundation
import Testing

@testable import BackupCore

@Suite("JSON")
struct JSONTests {
    static let sample: JSON = .object([
        ("success", .bool(true)),
        ("count", .int(-42)),
        ("ratio", .double(0.25)),
        ("whole", .double(3.0)),
        ("big", .int(Int64.max)),
        ("small", .int(Int64.min)),
        ("nothing", .null),
        ("text", .string("tab\tnewline\n\"quoted\" back\\slash é 😀 \u{7f}")),
        ("list", .array([.int(1), .string("two"), .array([]), .object([])])),
        ("nested", .object([("z", .int(1)), ("a", .int(2))])),
    ])

    @Test("serialise then parse gives the same value", arguments: [false, true])
    func roundTrip(pretty: Bool) throws {
        let text = Self.sample.serialized(pretty: pretty)
        #expect(try JSON.parse(text) == Self.sample)
    }

    @Test("objects keep their field order")
    func fieldOrder() throws {
        #expect(Self.sample["nested"]?.serialized() == #"{"z":1,"a":2}"#)
        let parsed = try JSON.parse(#"{"b":1,"a":2,"c":3}"#)
        guard case let .object(fields) = parsed else {
            Issue.record("not an object")
            return
        }
        #expect(fields.map(\.0) == ["b", "a", "c"])
    }

    @Test("compact and pretty layouts")
    func layouts() {
        let value: JSON = .object([("a", .int(1)), ("b", .array([.bool(false), .null]))])
        #expect(value.serialized() == #"{"a":1,"b":[false,null]}"#)
        #expect(value.serialized(pretty: true) == "{\n  \"a\": 1,\n  \"b\": [\n    false,\n    null\n  ]\n}")
        #expect(JSON.array([]).serialized(pretty: true) == "[]")
        #expect(JSON.object([]).serialized(pretty: true) == "{}")
    }

    @Test("numbers: integers stay integers, everything else is a double")
    func numbers() throws {
        #expect(try JSON.parse("0") == .int(0))
        #expect(try JSON.parse("-0") == .int(0))
        #expect(try JSON.parse("42") == .int(42))
        #expect(try JSON.parse("-9223372036854775808") == .int(Int64.min))
        #expect(try JSON.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSON.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try JSON.parse("1.0") == .double(1))
        #expect(try JSON.parse("1e2") == .double(100))
        #expect(try JSON.parse("1E+2") == .double(100))
        #expect(try JSON.parse("-2.5e-3") == .double(-0.0025))
        #expect(try JSON.parse("1") != .double(1))
        #expect(JSON.int(1) != JSON.double(1))
    }

    @Test("doubles serialise so they read back as doubles")
    func doubleOutput() throws {
        #expect(JSON.double(3).serialized() == "3.0")
        #expect(JSON.double(15.32).serialized() == "15.32")
        #expect(JSON.double(-0.5).serialized() == "-0.5")
        #expect(JSON.double(.infinity).serialized() == "null")
        #expect(JSON.double(.nan).serialized() == "null")
        for value in [3.0, 15.32, 1e20, 1e-7, 123_456_789.125, -0.0] {
            #expect(try JSON.parse(JSON.double(value).serialized()) == .double(value), "\(value)")
        }
    }

    @Test("accessors")
    func accessors() {
        #expect(JSON.int(5).int64Value == 5)
        #expect(JSON.double(5).int64Value == 5)
        #expect(JSON.double(5.5).int64Value == nil)
        #expect(JSON.string("5").int64Value == nil)
        #expect(JSON.int(5).doubleValue == 5)
        #expect(JSON.bool(true).boolValue == true)
        #expect(JSON.int(1).boolValue == nil)
        #expect(JSON.string("x").stringValue == "x")
        #expect(JSON.null.isNull)
        #expect(JSON.array([])["x"] == nil)
        #expect([JSON.null, .bool(true), .int(1), .double(1), .string(""), .array([]), .object([])].map(\.typeName)
            == ["null", "boolean", "number", "number", "string", "array", "object"])
    }

    @Test("control characters are escaped on output")
    func controlEscapes() {
        #expect(JSON.string("\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}").serialized() == #""\u0000\u0001\u0008\u000c\u001f\u007f""#)
        #expect(JSON.string("\n\r\t\"\\").serialized() == #""\n\r\t\"\\""#)
        #expect(JSON.string("\u{2028}\u{2029}").serialized() == #""\u2028\u2029""#)
        #expect(JSON.string("/é😀").serialized() == "\"/é😀\"")
        var all = ""
        for value in 0..<0x20 { all.unicodeScalars.append(Unicode.Scalar(UInt8(value))) }
        let text = JSON.string(all).serialized()
        #expect(!text.utf8.dropFirst().dropLast().contains { $0 < 0x20 })
    }

    @Test("string escapes are decoded")
    func escapesDecoded() throws {
        #expect(try JSON.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00""#) == .string("\"\\/\u{8}\u{c}\n\r\tAé😀"))
        #expect(try JSON.parse(#""\u0000""#) == .string("\u{0}"))
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let title: String
        let bytes: [UInt8]
        let message: String
        init(_ title: String, _ text: String, _ message: String) {
            self.title = title
            self.bytes = Array(text.utf8)
            self.message = message
        }
        init(_ title: String, bytes: [UInt8], _ message: String) {
            self.title = title
            self.bytes = bytes
            self.message = message
        }
        var testDescription: String { title }
    }

    static let bad: [Bad] = [
        Bad("duplicate keys", #"{"a":1,"a":2}"#, "duplicate key 'a' at byte 10"),
        Bad("duplicate keys in a nested object", #"{"x":{"k":1,"k":1}}"#, "duplicate key 'k' at byte 15"),
        Bad("trailing text", #"{"a":1} x"#, "unexpected text after the JSON value at byte 8"),
        Bad("two values", "{}{}", "unexpected text after the JSON value at byte 2"),
        Bad("invalid UTF-8 in a string", bytes: [0x22, 0xC3, 0x28, 0x22], "invalid UTF-8 in string at byte 4"),
        Bad("overlong UTF-8 in a string", bytes: [0x22, 0xC0, 0xAF, 0x22], "invalid UTF-8 in string at byte 4"),
        Bad("invalid byte outside strings", bytes: [0xFF], "unexpected character at byte 0"),
        Bad("lone high surrogate", #""\ud800""#, "unpaired surrogate at byte 7"),
        Bad("lone low surrogate", #""\udc00""#, "unpaired surrogate at byte 7"),
        Bad("high surrogate then a letter", #""\ud800\u0041""#, "unpaired surrogate at byte 13"),
        Bad("leading zero", "01", "leading zero in number at byte 2"),
        Bad("negative leading zero", "-01", "leading zero in number at byte 3"),
        Bad("leading plus", "+1", "unexpected character at byte 0"),
        Bad("bare dot", ".5", "unexpected character at byte 0"),
        Bad("dot without digits", "1.", "bad number at byte 2"),
        Bad("exponent without digits", "1e", "bad number at byte 2"),
        Bad("minus alone", "-", "bad number at byte 1"),
        Bad("number too large", "1e999", "number out of range at byte 5"),
        Bad("raw newline in a string", "\"a\nb\"", "control character in string at byte 2"),
        Bad("raw tab in a string", "\"a\tb\"", "control character in string at byte 2"),
        Bad("bad escape", #""\x41""#, "bad escape at byte 3"),
        Bad("short unicode escape", #""\u12""#, #"short \u escape at byte 3"#),
        Bad("unicode escape with a non-hex digit", #""\u12G4""#, #"bad \u escape at byte 5"#),
        Bad("trailing comma in an array", "[1,]", "unexpected character at byte 3"),
        Bad("trailing comma in an object", #"{"a":1,}"#, "expected a key at byte 7"),
        Bad("single quotes", "{'a':1}", "expected a key at byte 1"),
        Bad("unquoted key", "{a:1}", "expected a key at byte 1"),
        Bad("missing colon", #"{"a" 1}"#, "expected ':' at byte 5"),
        Bad("unterminated array", "[1", "unexpected end of input at byte 2"),
        Bad("unterminated string", #""abc"#, "unterminated string at byte 4"),
        Bad("capitalised literal", "True", "unexpected character at byte 0"),
        Bad("truncated literal", "nul", "invalid literal at byte 0"),
        Bad("empty input", "", "unexpected end of input at byte 0"),
        Bad("only spaces", "  \n ", "unexpected end of input at byte 4"),
        Bad("comment", "// x\n1", "unexpected character at byte 0"),
        Bad("byte order mark", "\u{FEFF}{}", "unexpected character at byte 0"),
        Bad("NaN", "NaN", "unexpected character at byte 0"),
    ]

    @Test("strict parsing refuses", arguments: bad)
    func refuses(_ b: Bad) {
        do {
            let value = try JSON.parse(b.bytes)
            Issue.record("accepted as \(value)")
        } catch let error as JSONParseError {
            #expect(error.description == b.message)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    static func nested(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    @Test("nesting: 64 levels parse, 65 are refused, 100000 do not crash")
    func depth() throws {
        _ = try JSON.parse(Self.nested(64))
        _ = try JSON.parse(String(repeating: #"{"a":"#, count: 63) + "1" + String(repeating: "}", count: 63))
        #expect(throws: JSONParseError.self) { try JSON.parse(Self.nested(65)) }
        do {
            _ = try JSON.parse(Self.nested(65))
        } catch let error as JSONParseError {
            #expect(error.message == "nesting too deep")
        }
        #expect(throws: JSONParseError.self) { try JSON.parse(Self.nested(100_000)) }
        #expect(throws: JSONParseError.self) { try JSON.parse(String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)) }
    }

    @Test("whitespace around values is allowed")
    func whitespace() throws {
        #expect(try JSON.parse(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n ") == .object([("a", .array([.int(1), .int(2)]))]))
    }

    @Test("round trip of every escapable scalar and some astral ones")
    func scalarRoundTrip() throws {
        var text = ""
        for value in Array(0..<0x80) + [0x2028, 0x2029, 0xFFFD, 0x1F600, 0x10FFFF] {
            if let scalar = Unicode.Scalar(UInt32(value)) { text.unicodeScalars.append(scalar) }
        }
        #expect(try JSON.parse(JSON.string(text).serialized()) == .string(text))
    }
}
