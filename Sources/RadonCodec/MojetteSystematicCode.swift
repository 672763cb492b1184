/// Mojette systematic code: fragments 0..<k are the k data lines verbatim, fragments k..<n are
/// projections (p, 1) with p = 0, 1, -1, 2, ... A reader holding every data line decodes nothing;
/// with lines lost it subtracts the present lines from as many projections and rebuilds only the
/// lost lines by the geometric sweep (see `MojetteGeometry.reconstruct`).
///
/// Storage: k lines plus n - k projections of L + |p| * (k - 1) pixels, e.g. 4+2 with 64 KiB
/// blocks stores 1.5015 bytes per data byte.
///
/// A final class of constants, like `ReedSolomonCode`: every caller holds it as
/// `any ErasureCode`, and a call through the existential copied a struct's value (its slopes
/// array, its plan cache, a retain and a release each), about 3% of a 64 KiB 8+4 rebuild in a
/// profile; a class reference is one pointer.
public final class MojetteSystematicCode: SystematicErasureCode {
    public var kind: CodecKind { .mojetteSystematic }
    public var layout: CodecLayout { block.layout }
    public var blockSize: Int { block.blockSize }
    public var isSystematic: Bool { true }
    public var lineSize: Int { block.lineSize }

    let block: BlockGeometry
    let grid: MojetteGeometry
    /// Slope of parity j (fragment k + j).
    let slopes: [Int]
    /// Inverse plans per erasure pattern, shared by every caller of this instance.
    let plans = InversePlanCache()

    /// See `makeErasureCode` for the valid block sizes.
    public init(layout: CodecLayout, blockSize: Int) throws(ErasureCodeError) {
        block = try BlockGeometry(layout: layout, blockSize: blockSize)
        grid = MojetteGeometry(rowCount: layout.dataCount, linePixels: block.linePixels)
        slopes = (0..<layout.redundancyCount).map(MojetteGeometry.systematicSlope(parity:))
    }

    /// The slope of projection fragment `index` (k..<n).
    public func slope(ofFragment index: Int) -> Int { slopes[index - block.k] }

    public func fragmentSize(at index: Int) -> Int {
        guard (0..<block.n).contains(index) else { return 0 }
        return index < block.k ? block.lineSize : grid.binCount(slope: slopes[index - block.k]) * BlockGeometry.pixelSize
    }

    public func encode(_ data: UnsafeRawBufferPointer, into fragments: [UnsafeMutableRawBufferPointer]) throws(ErasureCodeError) {
        try block.checkData(data)
        try block.checkOutputs(fragments, first: 0, sizeOf: fragmentSize(at:))
        let lines = block.copyLines(of: data, into: fragments)
        project(lines: lines, into: fragments[block.k...].map { $0.baseAddress! })
    }

    public func encodeParity(_ data: UnsafeRawBufferPointer, into parity: [UnsafeMutableRawBufferPointer]) throws(ErasureCodeError) {
        try block.checkData(data)
        try block.checkOutputs(parity, first: block.k, sizeOf: fragmentSize(at:))
        let destinations = parity.map { $0.baseAddress! }
        try block.withLinePointers(of: data) { lines in project(lines: lines, into: destinations) }
    }

    /// Every parity projection of `lines` into `destinations` (parity j into destination j).
    private func project(lines: [UnsafeRawPointer], into destinations: [UnsafeMutableRawPointer]) {
        lines.withUnsafeBufferPointer { lines in
            slopes.withUnsafeBufferPointer { slopes in
                destinations.withUnsafeBufferPointer { destinations in
                    grid.project(rows: lines.baseAddress!, slopes: slopes, into: destinations.baseAddress!)
                }
            }
        }
    }

    public func decode(_ fragments: [(index: Int, bytes: UnsafeRawBufferPointer)], into output: UnsafeMutableRawBufferPointer) throws(ErasureCodeError) {
        let indexed = try block.indexForDecoding(fragments, output: output, sizeOf: fragmentSize(at:))
        let missing = (0..<block.k).filter { indexed[$0] == nil }
        let projections = try chooseProjections(for: missing.count, from: indexed)
        try block.withOutputLinePointers(of: output) { (lines) throws(ErasureCodeError) in
            var rows = lines
            for line in 0..<block.k {
                guard let fragment = indexed[line] else { continue }
                // Present lines are read from their fragments; the output copy is separate.
                rows[line] = UnsafeMutableRawPointer(mutating: fragment)
                lines[line].copyMemory(from: fragment, byteCount: block.lineSize)
            }
            let plan = try plans.plan(grid: grid, missing: missing, slopes: projections.map(\.slope))
            try grid.reconstruct(rows: rows, projections: projections, plan: plan)
        }
    }

    public func reconstructLines(_ missingLines: [Int], in blockBuffer: UnsafeMutableRawBufferPointer,
                                 parity: [(index: Int, bytes: UnsafeRawBufferPointer)]) throws(ErasureCodeError) {
        let k = block.k, n = block.n
        let request = try block.checkRebuild(missingLines, in: blockBuffer, parity: parity, sizeOf: fragmentSize(at:))
        let lost = request.lost, e = request.lostCount, bins = request.parity, base = request.base
        guard e > 0 else { return }
        let chosen = try request.chosenParity(k: k)
        var slopeBits: UInt64 = 0
        for j in 0..<(n - k) where chosen & (1 << UInt32(j)) != 0 { slopeBits |= 1 << UInt64(slopes[j] + 16) }
        let plan = try plans.plan(key: UInt64(lost) | slopeBits << 32) { () throws(ErasureCodeError) in
            let missing = (0..<k).filter { lost & (1 << UInt32($0)) != 0 }
            let used = (0..<(n - k)).filter { chosen & (1 << UInt32($0)) != 0 }.map { slopes[$0] }
            return try MojetteGeometry.InversePlan(grid: grid, missing: missing, slopes: used, allowFusedKernel: true)
        }
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: k) { rows in
            withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: e) { projections in
                for line in 0..<k { rows[line] = base + line * block.lineSize }
                for t in 0..<e {
                    // Slopes are distinct, so each of the plan's slopes names one chosen fragment.
                    let j = (0..<(n - k)).first { chosen & (1 << UInt32($0)) != 0 && slopes[$0] == plan.slopes[t] }!
                    projections[t] = bins[j]!
                }
                grid.reconstruct(rows: UnsafePointer(rows.baseAddress!), projections: UnsafePointer(projections.baseAddress!), plan: plan)
            }
        }
    }

    /// The first `count` projections present (smallest |p| first, the cheapest edges).
    private func chooseProjections(for count: Int, from indexed: IndexedFragments) throws(ErasureCodeError) -> [MojetteGeometry.Projection] {
        let present = (block.k..<block.n).compactMap { index in
            indexed[index].map { MojetteGeometry.Projection(slope: slopes[index - block.k], bins: $0) }
        }
        guard present.count >= count else {
            throw .tooFewFragments(needed: block.k, available: block.k - count + present.count)
        }
        return Array(present.prefix(count))
    }
}
