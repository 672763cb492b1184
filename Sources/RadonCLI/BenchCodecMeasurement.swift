import Foundation
import RadonCodec

#if canImport(Glibc)
import Glibc
#endif

/// The measurements behind `radonfs bench codec`.
struct CodecBenchmark {
    struct Plan {
        var kinds: [CodecKind]
        var layouts: [CodecLayout]
        var blockSizes: [Int]
        var repetitions: Int
        var sampleSeconds: Double
    }

    /// One decode loss pattern and its median speed.
    struct PatternResult: Codable {
        var lost: [Int]
        var gbps: Double
    }

    /// One row: a codec, a layout and a block size.
    struct Result: Codable {
        var codec: String
        var layout: String
        var blockSize: Int
        /// Data bytes per second, parity only for systematic codes.
        var encodeGbps: Double
        /// Data bytes per second, the slowest loss pattern.
        var decodeGbps: Double
        /// Through the whole-block API (`encode` / `decode`, copying data lines).
        var encodeFullGbps: Double
        var decodeFullGbps: Double
        var overhead: Double
        var decodePatterns: [PatternResult]
        /// memcpy of one block, the physical limit.
        var memcpyGbps: Double

        enum CodingKeys: String, CodingKey {
            case codec, layout, overhead
            case blockSize = "block_size", encodeGbps = "encode_gbps", decodeGbps = "decode_gbps"
            case encodeFullGbps = "encode_full_gbps", decodeFullGbps = "decode_full_gbps"
            case decodePatterns = "decode_patterns", memcpyGbps = "memcpy_gbps"
        }
    }

    struct VerificationFailure: Error, CustomStringConvertible {
        var description: String
    }

    let plan: Plan

    func run(progress: (String) -> Void) throws -> [Result] {
        var results: [Result] = []
        for blockSize in plan.blockSizes {
            let data = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
            defer { data.deallocate(); copy.deallocate() }
            var generator = SystemRandomNumberGenerator()
            for index in 0..<blockSize { data[index] = UInt8.random(in: 0...255, using: &generator) }
            let memcpy = try medians(bytesPerCall: blockSize, [{ () throws in
                copy.baseAddress!.copyMemory(from: data.baseAddress!, byteCount: blockSize)
            }])[0]
            for layout in plan.layouts {
                progress("\(layout) \(CodecBenchmark.sizeName(blockSize)): \(plan.kinds.map(\.rawValue).joined(separator: ", "))")
                let contexts = try plan.kinds.map { try Context(kind: $0, layout: layout, data: UnsafeRawBufferPointer(data)) }
                defer { contexts.forEach { $0.deallocate() } }
                results += try measure(contexts, data: UnsafeRawBufferPointer(data)).map {
                    var result = $0
                    result.memcpyGbps = memcpy
                    return result
                }
            }
        }
        return results
    }

    /// The data lines lost in each decode pattern: min(n - k, k) of them, first, last, spread, middle.
    static func lossPatterns(_ layout: CodecLayout) -> [[Int]] {
        let k = layout.dataCount, lost = min(layout.redundancyCount, k)
        let middle = (k - lost) / 2
        let patterns = [Array(0..<lost), Array(k - lost..<k), (0..<lost).map { $0 * k / lost }, Array(middle..<middle + lost)]
        return patterns.reduce(into: []) { unique, pattern in if !unique.contains(pattern) { unique.append(pattern) } }
    }

    /// One codec's buffers for one layout and block size: its fragments, an output block, and
    /// for systematic codes a padded block holding the data lines in place.
    final class Context {
        let code: any ErasureCode
        /// The same code seen as systematic (nil for the classic Mojette), cast once here so
        /// no timed call pays for a dynamic cast.
        let systematic: (any SystematicErasureCode)?
        let fragments: [UnsafeMutableRawBufferPointer]
        let parity: [UnsafeMutableRawBufferPointer]
        let output: UnsafeMutableRawBufferPointer
        let block: UnsafeMutableRawBufferPointer?

        init(kind: CodecKind, layout: CodecLayout, data: UnsafeRawBufferPointer) throws {
            code = try makeErasureCode(kind: kind, layout: layout, blockSize: data.count)
            let code = code
            fragments = (0..<layout.fragmentCount).map {
                UnsafeMutableRawBufferPointer.allocate(byteCount: code.fragmentSize(at: $0), alignment: 64)
            }
            output = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 64)
            parity = Array(fragments[layout.dataCount...])
            try code.encode(data, into: fragments)
            systematic = code as? any SystematicErasureCode
            if let systematic {
                let padded = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.dataCount * systematic.lineSize, alignment: 64)
                for line in 0..<layout.dataCount {
                    (padded.baseAddress! + line * systematic.lineSize).copyMemory(from: fragments[line].baseAddress!,
                                                                                 byteCount: systematic.lineSize)
                }
                block = padded
            } else {
                block = nil
            }
        }

        func deallocate() {
            fragments.forEach { $0.deallocate() }
            output.deallocate()
            block?.deallocate()
        }

        /// The survivors when `lost` data fragments are gone: the first k of the others.
        func survivors(losing lost: [Int]) -> [(index: Int, bytes: UnsafeRawBufferPointer)] {
            (0..<code.layout.fragmentCount).filter { !lost.contains($0) }.prefix(code.layout.dataCount)
                .map { (index: $0, bytes: UnsafeRawBufferPointer(fragments[$0])) }
        }

        /// Encode as a zero-copy client does: parity only for systematic codes.
        func encode(_ data: UnsafeRawBufferPointer) throws(ErasureCodeError) {
            if let systematic {
                try systematic.encodeParity(data, into: parity)
            } else {
                try code.encode(data, into: fragments)
            }
        }

        /// Decode as a zero-copy client does: rebuild the lost lines in place for systematic
        /// codes, from the parity among `survivors` (`paritySurvivors`, filtered once).
        func decode(losing lost: [Int], survivors: [(index: Int, bytes: UnsafeRawBufferPointer)],
                    paritySurvivors: [(index: Int, bytes: UnsafeRawBufferPointer)]) throws(ErasureCodeError) {
            if let systematic, let block {
                try systematic.reconstructLines(lost, in: block, parity: paritySurvivors)
            } else {
                try code.decode(survivors, into: output)
            }
        }

        func paritySurvivors(_ survivors: [(index: Int, bytes: UnsafeRawBufferPointer)]) -> [(index: Int, bytes: UnsafeRawBufferPointer)] {
            survivors.filter { $0.index >= code.layout.dataCount }
        }

        /// Checks both decode paths once, so no figure is ever reported for wrong bytes.
        func verify(losing lost: [Int], data: UnsafeRawBufferPointer) throws {
            let survivors = survivors(losing: lost)
            output.initializeMemory(as: UInt8.self, repeating: 0)
            try code.decode(survivors, into: output)
            var correct = output.elementsEqual(data)
            if let systematic, let block {
                for line in lost {
                    (block.baseAddress! + line * systematic.lineSize).initializeMemory(as: UInt8.self, repeating: 0, count: systematic.lineSize)
                }
                try decode(losing: lost, survivors: survivors, paritySurvivors: paritySurvivors(survivors))
                correct = correct && block.prefix(data.count).elementsEqual(data)
            }
            guard correct else {
                throw VerificationFailure(description: "\(code.kind.rawValue) \(code.layout) \(data.count) B: decode losing \(lost) gave wrong bytes")
            }
        }
    }

    /// Every codec of one layout and block size, measured sample by sample in turn so that a
    /// burst of load on the machine hits them all alike.
    private func measure(_ contexts: [Context], data: UnsafeRawBufferPointer) throws -> [Result] {
        let blockSize = data.count
        try warmUp(contexts, data: data)
        let encode = try medians(bytesPerCall: blockSize, contexts.map { context in { () throws in try context.encode(data) } })
        let encodeFull = try medians(bytesPerCall: blockSize, contexts.map { context in
            { () throws in try context.code.encode(data, into: context.fragments) }
        })
        var patterns = Array(repeating: [PatternResult](), count: contexts.count)
        var decodeFull = Array(repeating: Double.infinity, count: contexts.count)
        for lost in Self.lossPatterns(contexts[0].code.layout) {
            for context in contexts { try context.verify(losing: lost, data: data) }
            let survivors = contexts.map { $0.survivors(losing: lost) }
            let paritySurvivors = contexts.indices.map { contexts[$0].paritySurvivors(survivors[$0]) }
            let speeds = try medians(bytesPerCall: blockSize, contexts.indices.map { index in
                { () throws in
                    try contexts[index].decode(losing: lost, survivors: survivors[index], paritySurvivors: paritySurvivors[index])
                }
            })
            let fullSpeeds = try medians(bytesPerCall: blockSize, contexts.indices.map { index in
                { () throws in try contexts[index].code.decode(survivors[index], into: contexts[index].output) }
            })
            for index in contexts.indices {
                patterns[index].append(PatternResult(lost: lost, gbps: speeds[index]))
                decodeFull[index] = min(decodeFull[index], fullSpeeds[index])
            }
        }
        return contexts.indices.map { index in
            let code = contexts[index].code
            return Result(codec: code.kind.rawValue, layout: code.layout.description, blockSize: blockSize,
                          encodeGbps: encode[index], decodeGbps: patterns[index].map(\.gbps).min() ?? 0,
                          encodeFullGbps: encodeFull[index], decodeFullGbps: decodeFull[index],
                          overhead: code.storageOverhead, decodePatterns: patterns[index], memcpyGbps: 0)
        }
    }

    /// Runs every codec's encode and every decode pattern, untimed, for about 50 ms. Freshly
    /// allocated buffers run markedly slower for their first milliseconds (every codec alike),
    /// which otherwise made whichever loss pattern came first look like the slowest.
    private func warmUp(_ contexts: [Context], data: UnsafeRawBufferPointer) throws {
        let patterns = Self.lossPatterns(contexts[0].code.layout)
        let survivors = contexts.map { context in patterns.map { context.survivors(losing: $0) } }
        let end = Self.threadSeconds() + 0.05
        repeat {
            for (index, context) in contexts.enumerated() {
                try context.encode(data)
                for (pattern, lost) in patterns.enumerated() {
                    let chosen = survivors[index][pattern]
                    try context.decode(losing: lost, survivors: chosen, paritySurvivors: context.paritySurvivors(chosen))
                }
            }
        } while Self.threadSeconds() < end
    }

    /// Median GB/s (1e9 data bytes per second) of each body over `plan.repetitions` samples;
    /// sample r of every body runs before sample r + 1 of any. Each sample calls its body as
    /// many times as fit in about `plan.sampleSeconds` (calibrated once, after a warm-up).
    /// Time is the CPU time of this thread: on a shared machine other processes then slow a
    /// sample only through the caches and cores they share, not by taking the core away.
    private func medians(bytesPerCall: Int, _ bodies: [() throws -> Void]) throws -> [Double] {
        var callsPerSample: [Int] = []
        for body in bodies {
            var calls = 0
            let warmUp = Self.threadSeconds()
            while Self.threadSeconds() - warmUp < 0.002 || calls < 3 {
                try body()
                calls += 1
            }
            let perCall = (Self.threadSeconds() - warmUp) / Double(calls)
            callsPerSample.append(max(1, Int(plan.sampleSeconds / perCall)))
        }
        var speeds = Array(repeating: [Double](), count: bodies.count)
        for _ in 0..<plan.repetitions {
            for (index, body) in bodies.enumerated() {
                let start = Self.threadSeconds()
                for _ in 0..<callsPerSample[index] { try body() }
                let elapsed = Self.threadSeconds() - start
                speeds[index].append(Double(bytesPerCall * callsPerSample[index]) / elapsed / 1e9)
            }
        }
        return speeds.map { $0.sorted()[$0.count / 2] }
    }

    /// CPU seconds used by the calling thread.
    static func threadSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }
}
