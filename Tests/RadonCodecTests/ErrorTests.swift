import Testing
@testable import RadonCodec

/// Bad requests get a typed error, never a crash or wrong bytes.
@Suite struct ErrorTests {
    let blockSize = 4096

    func code(_ kind: CodecKind, _ k: Int = 4, _ n: Int = 6) throws -> any ErasureCode {
        try makeErasureCode(kind: kind, layout: CodecLayout(k: k, n: n), blockSize: blockSize)
    }

    @Test func layoutsOutsideTheRangeAreRefused() throws {
        #expect(throws: ErasureCodeError.unsupportedLayout(k: 1, n: 2)) { try CodecLayout(k: 1, n: 2) }
        #expect(throws: ErasureCodeError.unsupportedLayout(k: 17, n: 18)) { try CodecLayout(k: 17, n: 18) }
        #expect(throws: ErasureCodeError.unsupportedLayout(k: 4, n: 4)) { try CodecLayout(k: 4, n: 4) }
        #expect(throws: ErasureCodeError.unsupportedLayout(k: 4, n: 13)) { try CodecLayout(k: 4, n: 13) }
        #expect(throws: ErasureCodeError.unparsableLayout("4x2")) { try CodecLayout(parsing: "4x2") }
        let parsed = try CodecLayout(parsing: "8+4")
        #expect(parsed == (try CodecLayout(k: 8, n: 12)))
    }

    @Test(arguments: CodecKind.allCases)
    func badBlockSizesAreRefused(kind: CodecKind) throws {
        let layout = try CodecLayout(k: 4, n: 6)
        for size in [0, 100, 4 * 32 - 32, 4097, (64 << 20) + 32] {
            #expect(throws: ErasureCodeError.unsupportedBlockSize(size)) {
                try makeErasureCode(kind: kind, layout: layout, blockSize: size)
            }
        }
    }

    @Test(arguments: CodecKind.allCases)
    func tooFewFragments(kind: CodecKind) throws {
        let code = try code(kind)
        let fragments = try code.encode(randomBytes(blockSize, seed: 1))
        let three = Dictionary(uniqueKeysWithValues: [0, 4, 5].map { ($0, fragments[$0]) })
        #expect(throws: ErasureCodeError.tooFewFragments(needed: 4, available: 3)) { try code.decode(three) }
        #expect(throws: ErasureCodeError.tooFewFragments(needed: 4, available: 0)) { try code.decode([:]) }
    }

    @Test(arguments: CodecKind.allCases)
    func duplicateAndOutOfRangeIndices(kind: CodecKind) throws {
        let code = try code(kind)
        let fragments = try code.encode(randomBytes(blockSize, seed: 2))
        var output = [UInt8](repeating: 0, count: blockSize)
        fragments[1].withUnsafeBytes { one in
            fragments[4].withUnsafeBytes { four in
                output.withUnsafeMutableBytes { out in
                    #expect(throws: ErasureCodeError.duplicateIndex(1)) {
                        try code.decode([(1, one), (1, one), (4, four), (5, four)], into: out)
                    }
                    #expect(throws: ErasureCodeError.indexOutOfRange(index: 6, fragmentCount: 6)) {
                        try code.decode([(6, four), (1, one), (2, one), (3, one)], into: out)
                    }
                    #expect(throws: ErasureCodeError.indexOutOfRange(index: -1, fragmentCount: 6)) {
                        try code.decode([(-1, four)], into: out)
                    }
                }
            }
        }
    }

    @Test(arguments: CodecKind.allCases)
    func wrongSizesAndForeignLayouts(kind: CodecKind) throws {
        let code = try code(kind)
        var fragments = try code.encode(randomBytes(blockSize, seed: 3))
        let size0 = fragments[0].count
        fragments[0].removeLast()
        #expect(throws: ErasureCodeError.wrongFragmentSize(index: 0, expected: size0, actual: size0 - 1)) {
            try code.decode(Dictionary(uniqueKeysWithValues: (0..<6).map { ($0, fragments[$0]) }))
        }
        // A fragment of a 2+1 code of the same block size has another size.
        let foreign = try self.code(kind, 2, 3).encode(randomBytes(blockSize, seed: 4))
        var mixed = Dictionary(uniqueKeysWithValues: (1..<6).map { ($0, fragments[$0]) })
        mixed[0] = foreign[0]
        mixed[1] = foreign[1]
        #expect(throws: ErasureCodeError.self) { try code.decode(mixed) }
        do {
            _ = try code.decode(mixed)
        } catch {
            guard case .wrongFragmentSize = error else {
                Issue.record("expected wrongFragmentSize, got \(error)")
                return
            }
        }
        // Wrong data and output sizes.
        #expect(throws: ErasureCodeError.wrongDataSize(expected: blockSize, actual: 10)) {
            try code.encode([UInt8](repeating: 0, count: 10))
        }
        let good = try code.encode(randomBytes(blockSize, seed: 5))
        var small = [UInt8](repeating: 0, count: 100)
        _ = good[0].withUnsafeBytes { zero in
            small.withUnsafeMutableBytes { out in
                #expect(throws: ErasureCodeError.wrongOutputSize(expected: blockSize, actual: 100)) {
                    try code.decode([(0, zero)], into: out)
                }
            }
        }
        // Wrong number of output fragments for encode.
        let buffers = (0..<5).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 64) }
        defer { buffers.forEach { $0.deallocate() } }
        _ = randomBytes(blockSize, seed: 6).withUnsafeBytes { data in
            #expect(throws: ErasureCodeError.wrongFragmentCount(expected: 6, actual: 5)) {
                try code.encode(data, into: buffers)
            }
        }
    }
}
