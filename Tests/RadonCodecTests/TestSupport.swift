@testable import RadonCodec

import RadonTestSupport

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        let word = generator.next()
        for shift in stride(from: 0, to: 64, by: 8) where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word >> UInt64(shift))
            index += 1
        }
    }
    return bytes
}

/// Every subset of `count` elements of 0..<n, in lexicographic order.
func combinations(of n: Int, choose count: Int) -> [[Int]] {
    var result: [[Int]] = []
    var current: [Int] = []
    func extend(from start: Int) {
        if current.count == count { result.append(current); return }
        guard start < n, n - start >= count - current.count else { return }
        for next in start..<n {
            current.append(next)
            extend(from: next + 1)
            current.removeLast()
        }
    }
    extend(from: 0)
    return result
}

/// The Mojette transform straight from its definition, one byte at a time: bin b of projection
/// (p, 1) is the XOR of every pixel (row r, column x) on the line x + p * r + base(p) = b, where
/// a pixel is 32 bytes and the grid is the block cut into k zero-padded lines of `lineSize`.
func referenceProjection(of data: [UInt8], k: Int, lineSize: Int, slope p: Int) -> [UInt8] {
    let pixel = 32
    let columns = lineSize / pixel
    let base = p < 0 ? -p * (k - 1) : 0
    let bins = columns + abs(p) * (k - 1)
    var projection = [UInt8](repeating: 0, count: bins * pixel)
    for bin in 0..<bins {
        for row in 0..<k {
            for column in 0..<columns where column + p * row + base == bin {
                for byte in 0..<pixel {
                    let offset = row * lineSize + column * pixel + byte
                    let value = offset < data.count ? data[offset] : 0
                    projection[bin * pixel + byte] ^= value
                }
            }
        }
    }
    return projection
}

/// The first index where two byte arrays differ (or the shorter length), nil when equal; keeps
/// failure messages short instead of printing whole blocks.
func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    if let index = (0..<min(a.count, b.count)).first(where: { a[$0] != b[$0] }) { return index }
    return a.count == b.count ? nil : min(a.count, b.count)
}
