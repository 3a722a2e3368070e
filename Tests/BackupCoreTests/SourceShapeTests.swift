import Foundation
import Testing

/// The size rule for `Sources/`: no file over 250 lines and no function or initialiser over 60 lines, unless a
/// `// long: <why>` comment says why (in a file's first ten lines for the file, or among the comment and
/// attribute lines right above a declaration for that function).
@Suite("Source shape")
struct SourceShapeTests {
    static let maxFileLines = 250
    static let maxFunctionLines = 60

    /// Places still over the limits, each on its way to being rewritten. Entries are `<path under Sources/>` for a
    /// whole file or `<path>:<function name>` for one function; the engineers who rewrite them remove their entry,
    /// and this list should end empty (it is, since issue 10).
    static let allowed: Set<String> = []

    @Test("no file in Sources/ is over 250 lines and no function over 60, except where a comment says why")
    func sourcesKeepTheirShape() throws {
        let sources = try Self.sourcesDirectory()
        var problems: [String] = []
        for path in try Self.swiftFiles(under: sources) {
            let relative = String(path.dropFirst(sources.count + 1))
            problems += try Self.problems(in: path, named: relative)
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("the allow-list names only places that are still over the limits")
    func allowListIsCurrent() throws {
        let sources = try Self.sourcesDirectory()
        var overLong: Set<String> = []
        for path in try Self.swiftFiles(under: sources) {
            let relative = String(path.dropFirst(sources.count + 1))
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let shape = SourceShape(text)
            if shape.lineCount > Self.maxFileLines { overLong.insert(relative) }
            for function in shape.functions where function.lines > Self.maxFunctionLines {
                overLong.insert("\(relative):\(function.name)")
            }
        }
        #expect(Self.allowed.subtracting(overLong).isEmpty, "stale entries: \(Self.allowed.subtracting(overLong).sorted())")
    }

    @Test("the checker counts a function from its declaration to its closing brace, ignoring braces in text")
    func checkerMeasuresFunctions() {
        let text = """
            struct A {
                /// Doc.
                // long: a reason
                func first() {
                    let s = "{ not a brace"  // } nor this
                    /* { */
                }

                init(x: Int) {
                    _ = x
                }
            }

            protocol P {
                func required() throws
            }
            """
        let shape = SourceShape(text)
        #expect(shape.functions.map(\.name) == ["first", "init"])
        #expect(shape.functions.map(\.lines) == [4, 3])
        #expect(shape.functions.map(\.exempt) == [true, false])
    }

    static func problems(in path: String, named relative: String) throws -> [String] {
        let shape = SourceShape(try String(contentsOfFile: path, encoding: .utf8))
        var problems: [String] = []
        if shape.lineCount > maxFileLines, !shape.fileExempt, !allowed.contains(relative) {
            problems.append("\(relative): \(shape.lineCount) lines (at most \(maxFileLines))")
        }
        for function in shape.functions where function.lines > maxFunctionLines {
            guard !function.exempt, !allowed.contains("\(relative):\(function.name)") else { continue }
            problems.append(
                "\(relative):\(function.line): \(function.name) is \(function.lines) lines (at most \(maxFunctionLines))")
        }
        return problems
    }

    /// `Sources/` of this package, found from this file's path.
    static func sourcesDirectory() throws -> String {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory.appendingPathComponent("Sources").path
            }
            directory.deleteLastPathComponent()
        }
        throw SourceShapeError.packageNotFound
    }

    static func swiftFiles(under directory: String) throws -> [String] {
        let names = try FileManager.default.subpathsOfDirectory(atPath: directory)
        return names.filter { $0.hasSuffix(".swift") }.sorted().map { "\(directory)/\($0)" }
    }
}

enum SourceShapeError: Error { case packageNotFound }

/// The lines of a Swift file and the extent of each function and initialiser in it, by brace matching over the
/// text with comments and string literals blanked out.
struct SourceShape {
    struct Function {
        var name: String
        /// 1-based line of the declaration.
        var line: Int
        var lines: Int
        var exempt: Bool
    }

    let lineCount: Int
    let fileExempt: Bool
    let functions: [Function]

    init(_ text: String) {
        var original = text.components(separatedBy: "\n")
        if original.last == "" { original.removeLast() }
        lineCount = original.count
        fileExempt = original.prefix(10).contains { $0.contains("// long:") }
        let code = Self.blankCommentsAndStrings(text).components(separatedBy: "\n")
        var found: [Function] = []
        for (index, line) in code.enumerated() {
            guard let name = Self.declaredName(line), let end = Self.closingLine(code, from: index) else { continue }
            found.append(Function(name: name, line: index + 1, lines: end - index + 1,
                                  exempt: Self.hasExemption(original, above: index)))
        }
        functions = found
    }

    /// `func name`, `init`, `init?` or `deinit` as the first word after attributes and modifiers, else nil.
    static func declaredName(_ line: String) -> String? {
        let modifiers: Set<String> = [
            "public", "private", "fileprivate", "internal", "package", "static", "class", "final", "override",
            "mutating", "nonmutating", "convenience", "required", "nonisolated", "open",
        ]
        var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })[...]
        while let first = words.first, first.hasPrefix("@") || modifiers.contains(String(first.prefix { $0 != "(" })) {
            words = words.dropFirst()
        }
        guard let first = words.first else { return nil }
        if first == "func", words.count > 1 {
            return String(words[words.startIndex + 1].prefix { $0 != "(" && $0 != "<" })
        }
        if first == "deinit" || first.hasPrefix("deinit{") { return "deinit" }
        for start in ["init(", "init?(", "init!(", "init<"] where first.hasPrefix(start) { return "init" }
        return nil
    }

    /// The line of the brace closing the body that starts after `start`, or nil when a `}` comes before any
    /// `{` (a protocol requirement has no body).
    static func closingLine(_ code: [String], from start: Int) -> Int? {
        var depth = 0
        for index in start..<code.count {
            for character in code[index] {
                if character == "{" {
                    depth += 1
                } else if character == "}" {
                    guard depth > 0 else { return nil }
                    depth -= 1
                    if depth == 0 { return index }
                }
            }
        }
        return nil
    }

    /// A `// long:` comment among the comment and attribute lines right above line `index`.
    static func hasExemption(_ lines: [String], above index: Int) -> Bool {
        var cursor = index - 1
        while cursor >= 0 {
            let line = lines[cursor].trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("//") || line.hasPrefix("@") else { return false }
            if line.hasPrefix("// long:") { return true }
            cursor -= 1
        }
        return false
    }

    /// The text with every comment and string literal replaced by spaces, line breaks kept.
    static func blankCommentsAndStrings(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out = bytes
        var index = 0
        func blank(_ range: Range<Int>) {
            for position in range where out[position] != UInt8(ascii: "\n") { out[position] = UInt8(ascii: " ") }
        }
        func find(_ needle: String, from start: Int) -> Int? {
            let pattern = Array(needle.utf8)
            var position = start
            while position + pattern.count <= bytes.count {
                if bytes[position..<position + pattern.count].elementsEqual(pattern) { return position }
                position += 1
            }
            return nil
        }
        func starts(_ prefix: String, at position: Int) -> Bool {
            let pattern = Array(prefix.utf8)
            return position + pattern.count <= bytes.count
                && bytes[position..<position + pattern.count].elementsEqual(pattern)
        }
        while index < bytes.count {
            if starts("//", at: index) {
                let end = find("\n", from: index) ?? bytes.count
                blank(index..<end)
                index = end
            } else if starts("/*", at: index) {
                let end = (find("*/", from: index + 2) ?? bytes.count - 2) + 2
                blank(index..<min(end, bytes.count))
                index = end
            } else if starts("\"\"\"", at: index) {
                let end = (find("\"\"\"", from: index + 3) ?? bytes.count - 3) + 3
                blank(index..<min(end, bytes.count))
                index = end
            } else if bytes[index] == UInt8(ascii: "\"") {
                var end = index + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\n") {
                    end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                end = min(end + 1, bytes.count)
                blank(index..<end)
                index = end
            } else {
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
