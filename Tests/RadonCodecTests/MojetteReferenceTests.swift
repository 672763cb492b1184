import Testing
@testable import RadonCodec

/// The fast encoders against the transform written from its definition.
@Suite struct MojetteReferenceTests {
    static let cases: [(k: Int, n: Int, blockSize: Int)] = [
        (2, 3, 256), (4, 6, 1024), (8, 12, 4096), (3, 5, 3 * 32 * 7 + 64), (6, 9, 4096),
        (10, 14, 4096), (16, 24, 16 * 32 * 3), (5, 13, 5 * 32), (7, 8, 7 * 64),
    ]

    @Test(arguments: cases)
    func systematicProjectionsMatchTheDefinition(k: Int, n: Int, blockSize: Int) throws {
        let code = try MojetteSystematicCode(layout: CodecLayout(k: k, n: n), blockSize: blockSize)
        let data = randomBytes(blockSize, seed: UInt64(k * 1000 + n))
        let fragments = try code.encode(data)
        for line in 0..<k {
            var expected = [UInt8](repeating: 0, count: code.lineSize)
            for byte in 0..<code.lineSize where line * code.lineSize + byte < blockSize {
                expected[byte] = data[line * code.lineSize + byte]
            }
            #expect(fragments[line] == expected, "data line \(line) is not verbatim")
        }
        for index in k..<n {
            let expected = referenceProjection(of: data, k: k, lineSize: code.lineSize,
                                               slope: code.slope(ofFragment: index))
            #expect(fragments[index] == expected, "projection \(index) of \(k)+\(n - k)")
        }
    }

    @Test(arguments: cases)
    func classicProjectionsMatchTheDefinition(k: Int, n: Int, blockSize: Int) throws {
        let code = try MojetteClassicCode(layout: CodecLayout(k: k, n: n), blockSize: blockSize)
        let data = randomBytes(blockSize, seed: UInt64(k * 1000 + n + 7))
        let fragments = try code.encode(data)
        let lineSize = (blockSize + k - 1) / k / 32 * 32 + ((blockSize + k - 1) / k % 32 == 0 ? 0 : 32)
        for index in 0..<n {
            let expected = referenceProjection(of: data, k: k, lineSize: lineSize, slope: code.slope(ofFragment: index))
            #expect(fragments[index] == expected, "projection \(index) of \(k)+\(n - k)")
        }
    }

    @Test func slopesFollowThePaperAndTheIssue() throws {
        let systematic = try MojetteSystematicCode(layout: CodecLayout(k: 8, n: 12), blockSize: 8192)
        #expect((8..<12).map(systematic.slope(ofFragment:)) == [0, 1, -1, 2])
        let classic = try MojetteClassicCode(layout: CodecLayout(k: 4, n: 6), blockSize: 8192)
        #expect((0..<6).map(classic.slope(ofFragment:)) == [-3, -2, -1, 0, 1, 2])
    }

    @Test func overheadAtFourPlusTwoWith64KiBBlocks() throws {
        let code = try makeErasureCode(kind: .mojetteSystematic, layout: CodecLayout(k: 4, n: 6), blockSize: 64 << 10)
        #expect(code.storageOverhead <= 1.51)
        #expect(code.storageOverhead > 1.5)
    }

    /// The column-blocked encoder puts block edges at every bin when blocks are tiny: every
    /// projection of several slopes at once, against the definition, for block sizes that cut
    /// the edge bins, the middle and the last partial block.
    @Test func blockedProjectionsMatchTheDefinition() throws {
        for (k, linePixels, slopes) in [(4, 41, [0, 1, -1, 2]), (8, 23, [0, 1, -1, 2, -2, 3, -3, 4]), (3, 2, [-1, 0, 1, 5])] {
            let grid = MojetteGeometry(rowCount: k, linePixels: linePixels)
            let lineSize = linePixels * 32
            let data = randomBytes(k * lineSize, seed: UInt64(k * 31 + linePixels))
            for blockPixels in [1, 3, 7, 64] {
                let outputs = slopes.map { UnsafeMutableRawPointer.allocate(byteCount: grid.binCount(slope: $0) * 32, alignment: 64) }
                defer { outputs.forEach { $0.deallocate() } }
                data.withUnsafeBytes { bytes in
                    let rows = (0..<k).map { bytes.baseAddress! + $0 * lineSize }
                    rows.withUnsafeBufferPointer { rows in
                        slopes.withUnsafeBufferPointer { slopes in
                            outputs.withUnsafeBufferPointer { outputs in
                                grid.project(rows: rows.baseAddress!, slopes: slopes, into: outputs.baseAddress!, blockPixels: blockPixels)
                            }
                        }
                    }
                }
                for (slope, output) in zip(slopes, outputs) {
                    let bytes = Array(UnsafeRawBufferPointer(start: output, count: grid.binCount(slope: slope) * 32))
                    #expect(bytes == referenceProjection(of: data, k: k, lineSize: lineSize, slope: slope),
                            "k \(k) L \(linePixels) slope \(slope) block \(blockPixels)")
                }
            }
        }
    }
}
