import Testing
@testable import RadonCodec
import RadonTestSupport

/// `reconstructLines`, the zero-copy degraded read: every choice of parity fragments (any order,
/// extras, gaps), many threads on one instance (the plan cache), and every kind of bad input.
@Suite struct InPlaceRebuildTests {
    static let systematicKinds = [CodecKind.mojetteSystematic, .reedSolomon]

    func systematic(_ kind: CodecKind, k: Int, n: Int, blockSize: Int) throws -> any SystematicErasureCode {
        try #require(try makeErasureCode(kind: kind, layout: CodecLayout(k: k, n: n), blockSize: blockSize) as? any SystematicErasureCode)
    }

    /// Rebuilds `lost` from the parity fragments `parityUsed` (in that order) and compares.
    func rebuild(_ code: any SystematicErasureCode, data: [UInt8], fragments: [[UInt8]], lost: [Int], parityUsed: [Int]) throws -> Bool {
        let k = code.layout.dataCount, lineSize = code.lineSize
        var buffer = [UInt8](repeating: 0x5A, count: k * lineSize)
        for line in 0..<k where !lost.contains(line) {
            buffer.replaceSubrange(line * lineSize ..< (line + 1) * lineSize, with: fragments[line])
        }
        try buffer.withUnsafeMutableBytes { block in
            try withViews(of: parityUsed.map { fragments[$0] }) { views in
                try code.reconstructLines(lost, in: block, parity: zip(parityUsed, views).map { (index: $0, bytes: $1) })
            }
        }
        return firstDifference(Array(buffer[0..<data.count]), data) == nil
    }

    @Test(arguments: systematicKinds)
    func anyParityChoiceInAnyOrder(kind: CodecKind) throws {
        for (k, n, blockSize) in [(8, 12, 64 << 10), (4, 6, 64 << 10), (6, 9, 6 * 32 * 40 + 32), (10, 14, 10 * 32 * 300)] {
            let code = try systematic(kind, k: k, n: n, blockSize: blockSize)
            let data = randomBytes(blockSize, seed: UInt64(k * 1000 + n))
            let fragments = try code.encode(data)
            let m = n - k
            for e in 1...m {
                for (patternIndex, lost) in [Array(0..<e), Array(k - e..<k), (0..<e).map { $0 * k / e }].enumerated() {
                    // All parity, reversed (extras are ignored); and each single parity left out.
                    var choices = [Array((k..<n).reversed())]
                    for skipped in k..<n where m > e { choices.append((k..<n).filter { $0 != skipped }.shuffledDeterministically(seed: skipped)) }
                    for parityUsed in choices {
                        #expect(try rebuild(code, data: data, fragments: fragments, lost: lost, parityUsed: parityUsed),
                                "\(kind) \(k)+\(m) lost \(lost) from \(parityUsed) (pattern \(patternIndex))")
                    }
                }
            }
        }
    }

    @Test(arguments: systematicKinds)
    func manyThreadsShareOneInstance(kind: CodecKind) async throws {
        let code = try systematic(kind, k: 8, n: 12, blockSize: 64 << 10)
        let data = randomBytes(64 << 10, seed: 17)
        let fragments = try code.encode(data)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    let lost = [task % 8, (task + 1) % 8, (task + 4) % 8, (task + 6) % 8].sorted()
                    return try (0..<20).allSatisfy { round in
                        try rebuild(code, data: data, fragments: fragments, lost: Array(lost.prefix(1 + round % 4)), parityUsed: Array(8..<12))
                    }
                }
            }
            for try await ok in group { #expect(ok, "\(kind)") }
        }
    }

    @Test(arguments: systematicKinds)
    func badInputGivesTypedErrors(kind: CodecKind) throws {
        let code = try systematic(kind, k: 4, n: 6, blockSize: 4096)
        let data = randomBytes(4096, seed: 3)
        let fragments = try code.encode(data)
        let paddedSize = 4 * code.lineSize
        func attempt(_ lost: [Int], blockSize: Int? = nil, _ parity: [(Int, [UInt8])]) -> ErasureCodeError? {
            var buffer = [UInt8](repeating: 0, count: blockSize ?? paddedSize)
            do {
                try buffer.withUnsafeMutableBytes { block in
                    try withViews(of: parity.map(\.1)) { views in
                        try code.reconstructLines(lost, in: block, parity: zip(parity.map(\.0), views).map { (index: $0, bytes: $1) })
                    }
                }
                return nil
            } catch let error as ErasureCodeError {
                return error
            } catch {
                return .internalFailure("\(error)")
            }
        }
        let p4 = (4, fragments[4]), p5 = (5, fragments[5])
        #expect(attempt([0], blockSize: paddedSize - 32, [p4]) == .wrongOutputSize(expected: paddedSize, actual: paddedSize - 32))
        #expect(attempt([4], [p4]) == .indexOutOfRange(index: 4, fragmentCount: 4))
        #expect(attempt([-1], [p4]) == .indexOutOfRange(index: -1, fragmentCount: 4))
        #expect(attempt([1, 1], [p4, p5]) == .duplicateIndex(1))
        #expect(attempt([0], [(6, fragments[5])]) == .indexOutOfRange(index: 6, fragmentCount: 6))
        #expect(attempt([0, 1], [p4, p4]) == .duplicateIndex(4))
        #expect(attempt([0], [(4, Array(fragments[4].dropLast(32)))]) ==
                .wrongFragmentSize(index: 4, expected: fragments[4].count, actual: fragments[4].count - 32))
        #expect(attempt([0], [(2, fragments[2])]) == .indexOutOfRange(index: 2, fragmentCount: 6))
        #expect(attempt([0, 1], [p5]) == .tooFewFragments(needed: 4, available: 3))
        #expect(attempt([0, 1, 2], [p4, p5]) == .tooFewFragments(needed: 4, available: 3))
        #expect(attempt([], []) == nil)
        #expect(attempt([3], [p5]) == nil)
    }
}

extension Array {
    /// A reproducible shuffle, so a failing parity order can be replayed.
    func shuffledDeterministically(seed: Int) -> [Element] {
        var generator = SeededGenerator(seed: UInt64(seed) &* 0x9E37)
        return shuffled(using: &generator)
    }
}

/// Calls `body` with read-only views of all `arrays`, each pinned for the duration.
func withViews<R>(of arrays: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
    func pin(_ index: Int, _ pinned: [UnsafeRawBufferPointer]) throws -> R {
        guard index < arrays.count else { return try body(pinned) }
        return try arrays[index].withUnsafeBytes { try pin(index + 1, pinned + [$0]) }
    }
    return try pin(0, [])
}
