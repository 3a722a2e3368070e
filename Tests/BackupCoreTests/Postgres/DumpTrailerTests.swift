import Foundation
import Testing

@testable import BackupCore

/// Plain dumps shaped like pg_dump 15.18's output (captured from a real server and trimmed).
enum SampleDump {
    static let key = "vadg123ZRFkCRuBkLp2P2i7rKmSOaSnmb2gqsT9G6THlIDHTvp2AM2kLEqo0lld"

    static func head(restrict: Bool) -> String {
        """
        --
        -- PostgreSQL database dump
        --

        \(restrict ? "\\restrict \(key)\n" : "")
        -- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
        -- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

        SET statement_timeout = 0;
        SET client_encoding = 'UTF8';
        SET standard_conforming_strings = on;
        SELECT pg_catalog.set_config('search_path', '', false);

        DROP TABLE IF EXISTS public.t;
        --
        -- Name: t; Type: TABLE; Schema: public; Owner: -
        --

        CREATE TABLE public.t (
            id integer,
            s text
        );


        --
        -- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: -
        --

        COPY public.t (id, s) FROM stdin;

        """
    }

    static func tail(restrict: Bool) -> String {
        """
        \\.


        --
        -- PostgreSQL database dump complete
        --

        \(restrict ? "\\unrestrict \(key)\n" : "")
        """
    }

    /// A complete dump with `rows` COPY rows.
    static func complete(restrict: Bool, rows: Int = 3) -> [UInt8] {
        var body = ""
        for row in 0..<rows { body += "\(row)\tvalue number \(row)\n" }
        return Array((head(restrict: restrict) + body + tail(restrict: restrict)).utf8)
    }
}

@Suite("DumpTrailer")
struct DumpTrailerTests {
    static func check(_ bytes: [UInt8], chunkSize: Int = Int.max) -> DumpTrailer {
        var trailer = DumpTrailer()
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let end = min(offset + chunkSize, raw.count)
                trailer.consume(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
            }
        }
        return trailer
    }

    static let cutShort = "the dump does not end with pg_dump's completion line (it was cut short)"
    static let noUnrestrict = "the dump does not end with \\unrestrict (it was cut short)"
    static let keyMismatch = "the \\unrestrict key does not match the \\restrict key at the top"

    @Test("a complete dump with \\restrict is complete", arguments: [false, true])
    func completeWithRestrict(large: Bool) {
        let dump = SampleDump.complete(restrict: true, rows: large ? 20_000 : 3)
        let trailer = Self.check(dump)
        #expect(trailer.restrictKey == SampleDump.key)
        #expect(trailer.problem == nil)
        #expect(trailer.byteCount == Int64(dump.count))
    }

    @Test("a complete dump from a pg_dump without \\restrict is complete", arguments: [false, true])
    func completeWithoutRestrict(large: Bool) {
        let dump = SampleDump.complete(restrict: false, rows: large ? 20_000 : 3)
        let trailer = Self.check(dump)
        #expect(trailer.restrictKey == nil)
        #expect(trailer.problem == nil)
    }

    @Test("the tail split across chunks of any size is still seen", arguments: [1, 2, 7, 100, 4095, 4096, 4097, 16_385])
    func splitTail(chunkSize: Int) {
        for restrict in [true, false] {
            let dump = SampleDump.complete(restrict: restrict, rows: 2000)
            let trailer = Self.check(dump, chunkSize: chunkSize)
            #expect(trailer.problem == nil, "restrict \(restrict)")
            #expect(trailer.restrictKey == (restrict ? SampleDump.key : nil))
            #expect(trailer.byteCount == Int64(dump.count))
        }
    }

    @Test("a dump with \\restrict cut anywhere before its last line is incomplete")
    func cutWithRestrict() {
        let dump = SampleDump.complete(restrict: true, rows: 50)
        let lastLine = Array("\\unrestrict \(SampleDump.key)\n".utf8)
        let lastLineStart = dump.count - lastLine.count
        // Cut points from just after the \restrict line to the end of the key minus one character.
        let restrictEnd = SampleDump.head(restrict: true).utf8.count
        for cut in stride(from: restrictEnd, to: dump.count - 1, by: 1) {
            let problem = Self.check(Array(dump.prefix(cut))).problem
            if cut > lastLineStart + 12 {
                #expect(problem == Self.keyMismatch, "cut at \(cut)")
            } else {
                #expect(problem == Self.noUnrestrict, "cut at \(cut)")
            }
        }
    }

    @Test("a dump without \\restrict cut before its completion line is incomplete")
    func cutWithoutRestrict() throws {
        let dump = SampleDump.complete(restrict: false, rows: 50)
        let text = String(decoding: dump, as: UTF8.self)
        let marker = try #require(text.range(of: "-- PostgreSQL database dump complete"))
        let completeEnd = text.utf8.distance(from: text.startIndex, to: marker.upperBound)
        for cut in 0..<completeEnd {
            #expect(Self.check(Array(dump.prefix(cut))).problem == Self.cutShort, "cut at \(cut)")
        }
        #expect(Self.check(Array(dump.prefix(completeEnd))).problem == nil)
    }

    @Test("a mismatched \\unrestrict key is reported")
    func mismatchedKey() {
        var text = String(decoding: SampleDump.complete(restrict: true), as: UTF8.self)
        text = text.replacingOccurrences(of: "\\unrestrict \(SampleDump.key)", with: "\\unrestrict someOtherKey")
        #expect(Self.check(Array(text.utf8)).problem == Self.keyMismatch)
    }

    @Test("\\unrestrict without a \\restrict at the top does not count as the completion line")
    func unrestrictWithoutRestrict() {
        let text = SampleDump.head(restrict: false) + "1\tx\n\\.\n\n\\unrestrict abc\n"
        #expect(Self.check(Array(text.utf8)).problem == Self.cutShort)
    }

    @Test("an empty stream is incomplete")
    func empty() {
        #expect(Self.check([]).problem == Self.cutShort)
        #expect(Self.check([]).byteCount == 0)
    }
}
