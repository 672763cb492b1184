import CISAL
import Synchronization

/// Reed-Solomon over GF(2^8) with ISA-L's Cauchy matrix (`gf_gen_cauchy1_matrix`): systematic,
/// fragments 0..<k are the data lines, k..<n the parity lines, all `lineSize` bytes.
///
/// The reference every Mojette figure is compared with. The encode tables are built once per
/// instance; decode tables are built once per erasure pattern and kept in a small cache behind a
/// `Mutex` (held only for a dictionary lookup; building the tables happens outside it).
public final class ReedSolomonCode: SystematicErasureCode {
    public var kind: CodecKind { .reedSolomon }
    public var layout: CodecLayout { block.layout }
    public var blockSize: Int { block.blockSize }
    public var isSystematic: Bool { true }
    public var lineSize: Int { block.lineSize }

    let block: BlockGeometry
    /// n x k generator: identity on top, Cauchy rows below.
    let encodeMatrix: [UInt8]
    /// ISA-L's expanded tables for the n - k parity rows.
    let encodeTables: [UInt8]
    /// Decode tables keyed by the bit set of the k fragments used.
    private let decodeCache = Mutex<[UInt32: DecodeTables]>([:])

    struct DecodeTables: Sendable {
        /// Fragment indices read, in the order the tables expect them.
        let sources: [Int]
        /// The data lines these tables rebuild, in output order.
        let rebuilt: [Int]
        let tables: [UInt8]
    }

    /// See `makeErasureCode` for the valid block sizes.
    public init(layout: CodecLayout, blockSize: Int) throws(ErasureCodeError) {
        block = try BlockGeometry(layout: layout, blockSize: blockSize)
        let k = layout.dataCount, n = layout.fragmentCount
        var matrix = [UInt8](repeating: 0, count: n * k)
        gf_gen_cauchy1_matrix(&matrix, Int32(n), Int32(k))
        var tables = [UInt8](repeating: 0, count: k * (n - k) * 32)
        matrix.withUnsafeMutableBufferPointer { matrix in
            ec_init_tables(Int32(k), Int32(n - k), matrix.baseAddress! + k * k, &tables)
        }
        encodeMatrix = matrix
        encodeTables = tables
    }

    public func fragmentSize(at index: Int) -> Int {
        (0..<block.n).contains(index) ? block.lineSize : 0
    }

    public func encode(_ data: UnsafeRawBufferPointer, into fragments: [UnsafeMutableRawBufferPointer]) throws(ErasureCodeError) {
        try block.checkData(data)
        try block.checkOutputs(fragments, first: 0, sizeOf: fragmentSize(at:))
        let lines = block.copyLines(of: data, into: fragments)
        computeParity(lines: lines, into: fragments[block.k...].map { $0.baseAddress! })
    }

    public func encodeParity(_ data: UnsafeRawBufferPointer, into parity: [UnsafeMutableRawBufferPointer]) throws(ErasureCodeError) {
        try block.checkData(data)
        try block.checkOutputs(parity, first: block.k, sizeOf: fragmentSize(at:))
        try block.withLinePointers(of: data) { lines in
            computeParity(lines: lines, into: parity.map { $0.baseAddress! })
        }
    }

    public func decode(_ fragments: [(index: Int, bytes: UnsafeRawBufferPointer)], into output: UnsafeMutableRawBufferPointer) throws(ErasureCodeError) {
        let indexed = try block.indexForDecoding(fragments, output: output, sizeOf: fragmentSize(at:))
        try block.withOutputLinePointers(of: output) { (lines) throws(ErasureCodeError) in
            for line in 0..<block.k {
                if let fragment = indexed[line] { lines[line].copyMemory(from: fragment, byteCount: block.lineSize) }
            }
            try rebuild(from: indexed, into: lines)
        }
    }

    public func reconstructLines(_ missingLines: [Int], in blockBuffer: UnsafeMutableRawBufferPointer,
                                 parity: [(index: Int, bytes: UnsafeRawBufferPointer)]) throws(ErasureCodeError) {
        // The same stack-only checks as the Mojette code, so the two are compared on their kernels.
        let k = block.k
        let request = try block.checkRebuild(missingLines, in: blockBuffer, parity: parity, sizeOf: fragmentSize(at:))
        let e = request.lostCount
        guard e > 0 else { return }
        let chosen = try request.chosenParity(k: k)
        // The first k fragments present: the data lines kept, then the chosen parity.
        let plan = try decodeTables(sources: (UInt32(1 << k) - 1) & ~request.lost | chosen << UInt32(k))
        let base = request.base, lineSize = block.lineSize, parityPointers = request.parity
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<UInt8>?.self, capacity: k) { sources in
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<UInt8>?.self, capacity: e) { targets in
                for (slot, index) in plan.sources.enumerated() {
                    let pointer = index < k ? UnsafeRawPointer(base + index * lineSize) : parityPointers[index - k]!
                    sources[slot] = UnsafeMutablePointer(mutating: pointer.assumingMemoryBound(to: UInt8.self))
                }
                for (slot, line) in plan.rebuilt.enumerated() {
                    targets[slot] = (base + line * lineSize).assumingMemoryBound(to: UInt8.self)
                }
                plan.tables.withUnsafeBufferPointer { tables in
                    ec_encode_data(Int32(lineSize), Int32(k), Int32(e), UnsafeMutablePointer(mutating: tables.baseAddress!),
                                   sources.baseAddress!, targets.baseAddress!)
                }
            }
        }
    }

    /// Writes every data line missing from `indexed` into `lines`.
    private func rebuild(from indexed: IndexedFragments, into lines: [UnsafeMutableRawPointer]) throws(ErasureCodeError) {
        guard (0..<block.k).contains(where: { indexed[$0] == nil }) else { return }
        let plan = try decodeTables(for: indexed)
        var sources = plan.sources.map { UnsafeMutablePointer(mutating: indexed[$0]!.assumingMemoryBound(to: UInt8.self)) as UnsafeMutablePointer<UInt8>? }
        var targets = plan.rebuilt.map { lines[$0].assumingMemoryBound(to: UInt8.self) as UnsafeMutablePointer<UInt8>? }
        plan.tables.withUnsafeBufferPointer { tables in
            ec_encode_data(Int32(block.lineSize), Int32(block.k), Int32(plan.rebuilt.count),
                           UnsafeMutablePointer(mutating: tables.baseAddress!), &sources, &targets)
        }
    }

    private func computeParity(lines: [UnsafeRawPointer], into parity: [UnsafeMutableRawPointer]) {
        var sources = lines.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self)) as UnsafeMutablePointer<UInt8>? }
        var targets = parity.map { $0.assumingMemoryBound(to: UInt8.self) as UnsafeMutablePointer<UInt8>? }
        encodeTables.withUnsafeBufferPointer { tables in
            ec_encode_data(Int32(block.lineSize), Int32(block.k), Int32(block.n - block.k),
                           UnsafeMutablePointer(mutating: tables.baseAddress!), &sources, &targets)
        }
    }

    /// Tables that rebuild the missing data lines from the first k fragments present
    /// (data fragments first, as they cost nothing to read).
    private func decodeTables(for indexed: IndexedFragments) throws(ErasureCodeError) -> DecodeTables {
        let used = (0..<block.n).filter { indexed[$0] != nil }.prefix(block.k)
        return try decodeTables(sources: used.reduce(UInt32(0)) { $0 | (1 << UInt32($1)) })
    }

    /// Tables that rebuild the data lines missing from `key`, the bit set of the k fragments read.
    private func decodeTables(sources key: UInt32) throws(ErasureCodeError) -> DecodeTables {
        let k = block.k
        if let cached = decodeCache.withLock({ $0[key] }) { return cached }
        let sources = (0..<block.n).filter { key & (1 << UInt32($0)) != 0 }

        var survivors = [UInt8](repeating: 0, count: k * k)
        for (row, fragment) in sources.enumerated() {
            for column in 0..<k { survivors[row * k + column] = encodeMatrix[fragment * k + column] }
        }
        var inverse = [UInt8](repeating: 0, count: k * k)
        guard gf_invert_matrix(&survivors, &inverse, Int32(k)) == 0 else {
            throw .internalFailure("Reed-Solomon: singular decode matrix for fragments \(sources)")
        }
        let rebuilt = (0..<k).filter { key & (1 << UInt32($0)) == 0 }
        var rows = [UInt8]()
        for line in rebuilt { rows += inverse[line * k ..< (line + 1) * k] }
        var tables = [UInt8](repeating: 0, count: k * rebuilt.count * 32)
        ec_init_tables(Int32(k), Int32(rebuilt.count), &rows, &tables)
        let plan = DecodeTables(sources: sources, rebuilt: rebuilt, tables: tables)
        decodeCache.withLock { $0[key] = plan }
        return plan
    }
}
