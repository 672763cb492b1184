/// Mojette code as RozoFS defines it: n projections (p_i, 1) with p_i = i - floor(n / 2), none of
/// them the data. Any k projections rebuild the grid by the Normand-Kingston-Evenou sweep. The
/// paper's layouts 0, 1 and 2 are (k, n) = (2, 3), (4, 6) and (8, 12).
///
/// Kept for fidelity to the paper and as a comparison point: every read decodes, so it is slower
/// to read than the systematic code and stores a little more.
public struct MojetteClassicCode: ErasureCode {
    public var kind: CodecKind { .mojetteClassic }
    public var layout: CodecLayout { block.layout }
    public var blockSize: Int { block.blockSize }
    public var isSystematic: Bool { false }

    let block: BlockGeometry
    let grid: MojetteGeometry
    /// Slope of fragment i.
    let slopes: [Int]
    /// Inverse plans per set of projections used, shared by every caller of this instance.
    let plans = InversePlanCache()

    /// See `makeErasureCode` for the valid block sizes.
    public init(layout: CodecLayout, blockSize: Int) throws(ErasureCodeError) {
        block = try BlockGeometry(layout: layout, blockSize: blockSize)
        grid = MojetteGeometry(rowCount: layout.dataCount, linePixels: block.linePixels)
        slopes = (0..<layout.fragmentCount).map {
            MojetteGeometry.classicSlope(fragment: $0, fragmentCount: layout.fragmentCount)
        }
    }

    /// The slope of fragment `index`.
    public func slope(ofFragment index: Int) -> Int { slopes[index] }

    public func fragmentSize(at index: Int) -> Int {
        guard (0..<block.n).contains(index) else { return 0 }
        return grid.binCount(slope: slopes[index]) * BlockGeometry.pixelSize
    }

    public func encode(_ data: UnsafeRawBufferPointer, into fragments: [UnsafeMutableRawBufferPointer]) throws(ErasureCodeError) {
        try block.checkData(data)
        try block.checkOutputs(fragments, first: 0, sizeOf: fragmentSize(at:))
        try block.withLinePointers(of: data) { lines in
            for (index, slope) in slopes.enumerated() {
                grid.project(rows: lines, slope: slope, into: fragments[index].baseAddress!)
            }
        }
    }

    public func decode(_ fragments: [(index: Int, bytes: UnsafeRawBufferPointer)], into output: UnsafeMutableRawBufferPointer) throws(ErasureCodeError) {
        let indexed = try block.indexForDecoding(fragments, output: output, sizeOf: fragmentSize(at:))
        // Any k projections do; take those with the smallest |p| (fewest bins to read).
        let chosen = (0..<block.n).filter { indexed[$0] != nil }
            .sorted { abs(slopes[$0]) < abs(slopes[$1]) }
            .prefix(block.k)
            .map { MojetteGeometry.Projection(slope: slopes[$0], bins: indexed[$0]!) }
        try block.withOutputLinePointers(of: output) { (lines) throws(ErasureCodeError) in
            let plan = try plans.plan(grid: grid, missing: Array(0..<block.k), slopes: chosen.map(\.slope))
            try grid.reconstruct(rows: lines, projections: chosen, plan: plan)
        }
    }
}
