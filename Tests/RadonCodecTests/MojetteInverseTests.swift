import Testing
@testable import RadonCodec

/// Both inverses (the fused two-line kernel and the general sweep) on the same grids, so each is
/// checked on its own and not only through whichever `decode` happens to pick.
@Suite struct MojetteInverseTests {
    /// Projects a random grid, forgets `missing`, rebuilds with `inverse`, compares.
    func check(k: Int, linePixels: Int, missing: [Int], slopes: [Int], fused: Bool,
               blockPixels: Int = MojetteGeometry.sweepBlockPixels, fusedSweep: Bool = false) throws {
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
        if fused {
            #expect(grid.reconstructTwo(rows: rowPointers, missing: missing, projections: inputs))
        } else if fusedSweep {
            try grid.reconstruct(rows: rowPointers, missing: missing, projections: inputs, allowFusedKernel: true,
                                 blockPixels: blockPixels)
        } else {
            try grid.reconstruct(rows: rowPointers, missing: missing, projections: inputs, allowFusedKernel: false,
                                 blockPixels: blockPixels)
        }
        #expect(firstDifference(Array(UnsafeRawBufferPointer(rows)), original) == nil,
                "k \(k) L \(linePixels) missing \(missing) slopes \(slopes) block \(blockPixels)")
    }

    @Test func everyLossPatternOfEightRows() throws {
        for e in 1...4 {
            let slopes = (0..<e).map(MojetteGeometry.systematicSlope(parity:))
            for missing in combinations(of: 8, choose: e) {
                try check(k: 8, linePixels: 9, missing: missing, slopes: slopes, fused: false)
                try check(k: 8, linePixels: 37, missing: missing, slopes: slopes, fused: false)
                if e == 2 { try check(k: 8, linePixels: 9, missing: missing, slopes: slopes, fused: true) }
            }
        }
    }

    /// Two lost rows go through the fused kernel; long lines exercise its unrolled loops for every
    /// distance d between the rows (d = 1, 2, 3 and more take different paths).
    @Test func everyPairOfLostRowsOnLongLines() throws {
        for slopes in [[0, 1], [-1, 0], [1, 2]] {
            for missing in combinations(of: 8, choose: 2) {
                try check(k: 8, linePixels: 67, missing: missing, slopes: slopes, fused: true)
            }
        }
    }

    @Test func theSweepHandlesSlopesWithGaps() throws {
        for missing in combinations(of: 6, choose: 3) {
            try check(k: 6, linePixels: 5, missing: missing, slopes: [-2, 1, 3], fused: false)
        }
        // Every row lost (the classic code), lines shorter than the shifts.
        try check(k: 12, linePixels: 2, missing: Array(0..<12), slopes: Array(-6..<6), fused: false)
        try check(k: 3, linePixels: 1, missing: [0, 2], slopes: [-1, 0], fused: true)
    }

    @Test func theFusedKernelRefusesSlopesWithGaps() {
        let grid = MojetteGeometry(rowCount: 4, linePixels: 4)
        let dummy = UnsafeMutableRawPointer.allocate(byteCount: 1024, alignment: 64)
        defer { dummy.deallocate() }
        let inputs = [-1, 1].map { MojetteGeometry.Projection(slope: $0, bins: UnsafeRawPointer(dummy)) }
        #expect(!grid.reconstructTwo(rows: Array(repeating: dummy, count: 4), missing: [0, 1], projections: inputs))
    }

    /// Three and four lost rows go through the column-blocked inverse with the register-forwarding
    /// sweep. Long lines and small blocks put block edges everywhere: in the checked edge steps,
    /// on the first unchecked step (which goes through memory) and in the middle of the forwarded
    /// stretch, for every loss pattern of 8 and 10 rows and for slopes with gaps (a parity lost).
    @Test func blockedForwardingSweepForThreeAndFourLostRows() throws {
        for (k, e) in [(8, 3), (8, 4), (10, 4), (6, 3)] {
            let slopes = (0..<e).map(MojetteGeometry.systematicSlope(parity:))
            for missing in combinations(of: k, choose: e) {
                for blockPixels in [1, 5, 64] {
                    try check(k: k, linePixels: 83, missing: missing, slopes: slopes, fused: false, blockPixels: blockPixels)
                }
            }
        }
        for missing in combinations(of: 8, choose: 4) {
            try check(k: 8, linePixels: 70, missing: missing, slopes: [-2, -1, 1, 2], fused: false, blockPixels: 7)
            try check(k: 8, linePixels: 70, missing: missing, slopes: [0, 1, 3, 4], fused: false, blockPixels: 16)
        }
        for missing in combinations(of: 7, choose: 3) {
            try check(k: 7, linePixels: 3, missing: missing, slopes: [-1, 0, 1], fused: false, blockPixels: 2)
            try check(k: 7, linePixels: 150, missing: missing, slopes: [-1, 1, 2], fused: false, blockPixels: 9)
        }
    }

    /// The one-pass residual-and-sweep kernel for three and four lost rows (`sweepFused`), with
    /// the blocked form at the ragged ends: every loss pattern of 6, 8 and 10 rows with the
    /// systematic slopes, on lines long enough for its loop and every count of steps left for a
    /// short last iteration, and on lines so short that nothing is left for it. Patterns it
    /// cannot take fall back, so the test also checks that it takes the 8+4 and 10+4 ones the
    /// benchmarks measure.
    @Test func oneSweepPassForThreeAndFourLostRows() throws {
        for (k, e) in [(8, 3), (8, 4), (10, 4), (6, 3)] {
            let slopes = (0..<e).map(MojetteGeometry.systematicSlope(parity:))
            for missing in combinations(of: k, choose: e) {
                for (linePixels, blockPixels) in [(83, 64), (84, 5), (85, 64), (86, 6), (3, 64)] {
                    try check(k: k, linePixels: linePixels, missing: missing, slopes: slopes, fused: false,
                              blockPixels: blockPixels, fusedSweep: true)
                }
            }
        }
        for (k, lineBytes) in [(8, 8192), (8, 131_072), (6, 10_944), (10, 6560)] {
            let e = k == 6 ? 3 : 4
            let slopes = (0..<e).map(MojetteGeometry.systematicSlope(parity:))
            for missing in [Array(0..<e), Array(k - e..<k), (0..<e).map { $0 * k / e }, Array((k - e) / 2 ..< (k - e) / 2 + e)] {
                let grid = MojetteGeometry(rowCount: k, linePixels: lineBytes / 32)
                let plan = try MojetteGeometry.InversePlan(grid: grid, missing: missing, slopes: slopes, allowFusedKernel: true)
                #expect(k == 6 || plan.fusedSteps.count > lineBytes / 32 - 32, "k \(k) missing \(missing): fused steps \(plan.fusedSteps)")
                try check(k: k, linePixels: lineBytes / 32, missing: missing, slopes: slopes, fused: false, fusedSweep: true)
            }
        }
        for missing in combinations(of: 8, choose: 4) {
            try check(k: 8, linePixels: 70, missing: missing, slopes: [-2, -1, 1, 2], fused: false, blockPixels: 7, fusedSweep: true)
        }
    }

    /// The four-row fused kernel takes four steps per iteration, so a plan gives it four steps
    /// or none: on lines of 18 to 20 pixels the 8+4 patterns leave 2 to 5 steps for it, and
    /// those leaving 2 or 3 go the blocked way instead. Every one rebuilds exactly.
    @Test func theFourRowFusedSweepGetsFourStepsOrNone() throws {
        let slopes = (0..<4).map(MojetteGeometry.systematicSlope(parity:))
        var fusedCounts = Set<Int>()
        for linePixels in 18...20 {
            let grid = MojetteGeometry(rowCount: 8, linePixels: linePixels)
            for missing in combinations(of: 8, choose: 4) {
                let plan = try MojetteGeometry.InversePlan(grid: grid, missing: missing, slopes: slopes, allowFusedKernel: true)
                #expect(plan.fusedSteps.isEmpty || plan.fusedSteps.count >= 4, "L \(linePixels) missing \(missing): \(plan.fusedSteps)")
                fusedCounts.insert(plan.fusedSteps.count)
                try check(k: 8, linePixels: linePixels, missing: missing, slopes: slopes, fused: false, fusedSweep: true)
            }
        }
        #expect(fusedCounts.isSuperset(of: [4, 5]), "fused step counts met: \(fusedCounts.sorted())")
    }

    /// The forwarding sweep against the plain one on real line lengths (64 KiB and 1 MiB blocks
    /// of 8+4 and 6+3), every block size boundary of the default blocking included.
    @Test func blockedInverseOnRealLineLengths() throws {
        for (k, lineBytes) in [(8, 8192), (8, 131_072), (6, 10_944)] {
            for missing in [Array(0..<4), [2, 3, 4, 5], [0, 2, 4, 6], [1, 2, 6, 7]] where missing.allSatisfy({ $0 < k }) {
                let e = k == 6 ? 3 : 4
                let lost = Array(missing.prefix(e))
                try check(k: k, linePixels: lineBytes / 32, missing: lost,
                          slopes: (0..<e).map(MojetteGeometry.systematicSlope(parity:)), fused: false)
            }
        }
    }
}
