import Testing
@testable import RadonCodec
import RadonTestSupport

/// Every k-subset of fragments gives the block back, for every codec.
@Suite struct RoundTripTests {
    static let smallLayouts: [(Int, Int)] = (2...8).flatMap { k in (1...4).map { (k, k + $0) } }

    /// Decodes `data` from every subset in `subsets` and checks the bytes.
    func checkSubsets(_ code: any ErasureCode, data: [UInt8], subsets: [[Int]]) throws {
        let fragments = try code.encode(data)
        for subset in subsets {
            let chosen = Dictionary(uniqueKeysWithValues: subset.map { ($0, fragments[$0]) })
            let decoded = try code.decode(chosen)
            let difference = firstDifference(decoded, data)
            #expect(difference == nil, "\(code.kind) \(code.layout) block \(code.blockSize) from \(subset): first wrong byte")
            if difference != nil { return }
        }
    }

    @Test(arguments: CodecKind.allCases)
    func everySubsetDecodesUpToEightPlusFour(kind: CodecKind) throws {
        for (k, n) in Self.smallLayouts {
            // Small lines keep the debug build fast; a ragged size and a roomy one per layout.
            for blockSize in [k * 32 * 3 + 32, k * 256] {
                let code = try makeErasureCode(kind: kind, layout: CodecLayout(k: k, n: n), blockSize: blockSize)
                let data = randomBytes(blockSize, seed: UInt64(k * 97 + n * 13 + blockSize))
                try checkSubsets(code, data: data, subsets: combinations(of: n, choose: k))
            }
        }
    }

    @Test(arguments: CodecKind.allCases)
    func sampledSubsetsDecodeAboveEightPlusFour(kind: CodecKind) throws {
        var generator = SeededGenerator(seed: 42)
        for (k, n) in [(10, 14), (12, 16), (16, 24), (16, 17), (9, 17), (6, 9), (10, 13)] {
            let blockSize = k * 32 * 5
            let code = try makeErasureCode(kind: kind, layout: CodecLayout(k: k, n: n), blockSize: blockSize)
            let data = randomBytes(blockSize, seed: UInt64(k * 31 + n))
            let subsets = (0..<150).map { _ in Array(Array(0..<n).shuffled(using: &generator).prefix(k)).sorted() }
            try checkSubsets(code, data: data, subsets: subsets)
        }
    }

    @Test(arguments: CodecKind.allCases, [4096, 64 << 10, 1 << 20])
    func realBlockSizesSurviveTheWorstLosses(kind: CodecKind, blockSize: Int) throws {
        for (k, n) in [(4, 6), (6, 9), (8, 12), (10, 14), (12, 16)] {
            let code = try makeErasureCode(kind: kind, layout: CodecLayout(k: k, n: n), blockSize: blockSize)
            let data = randomBytes(blockSize, seed: UInt64(blockSize + k))
            let m = n - k
            // Lose the first, the last and spread data lines: every survivor set keeps all parity.
            let losses = [Array(0..<m), Array(k - m..<k), (0..<m).map { $0 * k / m }]
            try checkSubsets(code, data: data, subsets: losses.map { lost in (0..<n).filter { !lost.contains($0) } })
        }
    }

    @Test(arguments: [CodecKind.mojetteSystematic, .reedSolomon])
    func systematicCodesKeepDataLinesVerbatim(kind: CodecKind) throws {
        let code = try makeErasureCode(kind: kind, layout: CodecLayout(k: 6, n: 9), blockSize: 1 << 20)
        #expect(code.isSystematic)
        let data = randomBytes(1 << 20, seed: 5)
        let fragments = try code.encode(data)
        let lineSize = fragments[0].count
        for line in 0..<6 {
            let stored = min(lineSize, data.count - line * lineSize)
            #expect(Array(fragments[line][0..<stored]) == Array(data[line * lineSize ..< line * lineSize + stored]))
        }
    }

    @Test(arguments: [CodecKind.mojetteSystematic, .reedSolomon])
    func parityOnlyEncodeAndInPlaceRebuildAgreeWithTheFullAPI(kind: CodecKind) throws {
        let layout = try CodecLayout(k: 6, n: 10)
        let blockSize = 6 * 32 * 11 + 32 // ragged last line
        let code = try #require(try makeErasureCode(kind: kind, layout: layout, blockSize: blockSize) as? any SystematicErasureCode)
        let data = randomBytes(blockSize, seed: 77)
        let fragments = try code.encode(data)
        let parity = (6..<10).map { UnsafeMutableRawBufferPointer.allocate(byteCount: code.fragmentSize(at: $0), alignment: 64) }
        defer { parity.forEach { $0.deallocate() } }
        try data.withUnsafeBytes { try code.encodeParity($0, into: parity) }
        for j in 0..<4 { #expect(Array(UnsafeRawBufferPointer(parity[j])) == fragments[6 + j]) }

        for lost in [[0, 1, 2, 3], [5], [1, 4], [2, 3, 5]] {
            var buffer = [UInt8](repeating: 0xEE, count: 6 * code.lineSize)
            for line in 0..<6 where !lost.contains(line) {
                buffer.replaceSubrange(line * code.lineSize ..< (line + 1) * code.lineSize, with: fragments[line])
            }
            let fragmentsUsed = Array((6..<10).prefix(lost.count))
            try buffer.withUnsafeMutableBytes { block in
                let views = fragmentsUsed.map { index in (index: index, bytes: UnsafeRawBufferPointer(parity[index - 6])) }
                try code.reconstructLines(lost, in: block, parity: views)
            }
            #expect(firstDifference(Array(buffer[0..<blockSize]), data) == nil, "lost \(lost)")
        }
    }

    @Test func theInstanceServesManyThreadsAtOnce() async throws {
        for kind in CodecKind.allCases {
            let code = try makeErasureCode(kind: kind, layout: CodecLayout(k: 8, n: 12), blockSize: 64 << 10)
            let data = randomBytes(64 << 10, seed: 9)
            let fragments = try code.encode(data)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        let lost = Set([task % 8, (task + 3) % 8, (task + 5) % 8, 11 - task % 4])
                        let chosen = Dictionary(uniqueKeysWithValues: (0..<12).filter { !lost.contains($0) }.map { ($0, fragments[$0]) })
                        return try (0..<4).allSatisfy { _ in try code.decode(chosen) == data }
                    }
                }
                for try await ok in group { #expect(ok, "\(kind)") }
            }
        }
    }
}
