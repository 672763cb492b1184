import Crypto
import Foundation

/// Deterministic pseudo-random bytes (SplitMix64, each 64-bit word little-endian), so a
/// failing size or seed is reproducible and no two blocks of a file look alike.
public func patternBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z.littleEndian) { word in
                let length = min(8, count - offset)
                buffer.baseAddress!.advanced(by: offset).copyMemory(from: word.baseAddress!, byteCount: length)
            }
            offset += 8
        }
    }
    return bytes
}

/// The SHA-256 of `bytes` in hex: tests keep digests of what they wrote, not the bytes, and a
/// mismatch message stays short.
public func sha256(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}
