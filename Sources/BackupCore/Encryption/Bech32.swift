/// Bech32 (BIP 173), as far as an age X25519 recipient needs it: `age1` and 58 data characters whose last six are
/// the checksum, all lower case, 32 bytes of key. Checked so a mistyped key stops pgbackup at startup, not the
/// first backup.
enum Bech32 {
    private static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    static func isX25519Recipient(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        // "age" + "1" + 52 characters of data (32 bytes) + 6 of checksum.
        guard bytes.count == 62, text.hasPrefix("age1") else { return false }
        var values: [UInt8] = []
        for byte in bytes.dropFirst(4) {
            guard let value = charset.firstIndex(of: byte) else { return false }
            values.append(UInt8(value))
        }
        return polymod(expand("age") + values) == 1
    }

    private static func expand(_ hrp: String) -> [UInt8] {
        let bytes = Array(hrp.utf8)
        return bytes.map { $0 >> 5 } + [0] + bytes.map { $0 & 31 }
    }

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var check: UInt32 = 1
        for value in values {
            let top = check >> 25
            check = (check & 0x1ff_ffff) << 5 ^ UInt32(value)
            for index in 0..<5 where (top >> UInt32(index)) & 1 == 1 { check ^= generator[index] }
        }
        return check
    }
}
