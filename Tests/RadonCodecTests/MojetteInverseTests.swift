import Testing
@testable import RadonCodec

/// Both inverses (the Björck-Pereyra line solver and the pixel sweep) on the same grids, so
/// each is checked on its own and not only through whichever `decode` happens to pick.
@Suite struct MojetteInverseTests {
    /// Projects a random grid, forgets `missing`, rebuilds with `inverse`, compares.
    func check(k: Int, linePixels: Int, missing: [Int], slopes: [Int], consecutive: Bool) throws {
        let grid = MojetteGeometry(rowCount: k, linePixels: linePixels)
        let lineBytes = linePixels * 32
        let original = randomBytes(k * lineBytes, seed: UInt64(k * 7919 + missing.reduce(0, +) * 31 + slopes.reduce(0, +)))
        let rows = UnsafeMutableRawBufferPointer.allocate(byteCount: k * lineBytes, alignment: 64)
        defer { rows.deallocate() }
        rows.copyBytes(from: original)
        let rowPointers = (0..<k).map { rows.baseAddress! + $0 * lineBytes }
        let projections = slopes.map { UnsafeMutableRawBufferPointer.allocate(byteCount: grid.binCount(slope: $0) * 32, alignment: 64) }
        defer { projections.forEach { $0.deallocate() } }
        for (slope, buffer) in zip(slopes, projections) {
            grid.project(rows: rowPointers.map { UnsafeRawPointer($0) }, slope: slope, into: buffer.baseAddress!)
        }
        for row in missing { (rowPointers[row]).initializeMemory(as: UInt8.self, repeating: 0xA5, count: lineBytes) }
        let inputs = zip(slopes, projections).map { MojetteGeometry.Projection(slope: $0, bins: UnsafeRawPointer($1.baseAddress!)) }
        if consecutive {
            #expect(grid.reconstructConsecutive(rows: rowPointers, missing: missing, projections: inputs))
        } else {
            try grid.reconstruct(rows: rowPointers, missing: missing, projections: inputs, allowLineSolver: false)
        }
        #expect(Array(UnsafeRawBufferPointer(rows)) == original, "k \(k) L \(linePixels) missing \(missing) slopes \(slopes)")
    }

    @Test(arguments: [true, false])
    func everyLossPatternOfEightRows(consecutive: Bool) throws {
        for e in 1...4 {
            let slopes = (0..<e).map(MojetteGeometry.systematicSlope(parity:))
            for missing in combinations(of: 8, choose: e) {
                try check(k: 8, linePixels: 9, missing: missing, slopes: slopes, consecutive: consecutive)
            }
        }
    }

    @Test func theSweepHandlesSlopesWithGaps() throws {
        for missing in combinations(of: 6, choose: 3) {
            try check(k: 6, linePixels: 5, missing: missing, slopes: [-2, 1, 3], consecutive: false)
        }
        // Every row lost (the classic code), lines shorter than the shifts.
        try check(k: 12, linePixels: 2, missing: Array(0..<12), slopes: Array(-6..<6), consecutive: false)
        try check(k: 12, linePixels: 2, missing: Array(0..<12), slopes: Array(-6..<6), consecutive: true)
    }

    @Test func gapsAreNotTakenForConsecutive() {
        let grid = MojetteGeometry(rowCount: 4, linePixels: 4)
        let dummy = UnsafeMutableRawPointer.allocate(byteCount: 1024, alignment: 64)
        defer { dummy.deallocate() }
        let inputs = [-1, 1].map { MojetteGeometry.Projection(slope: $0, bins: UnsafeRawPointer(dummy)) }
        #expect(!grid.reconstructConsecutive(rows: Array(repeating: dummy, count: 4), missing: [0, 1], projections: inputs))
    }
}
