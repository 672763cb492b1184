/// The XOR kernels every Mojette operation reduces to.
///
/// A pixel is 32 bytes held in one `SIMD4<UInt64>`: with AVX2 enabled (release builds) each XOR
/// is one `vpxor ymm`, each load and store one `vmovdqu`; without it LLVM splits them into SSE2
/// pairs, which is the portable path. Loads and stores are unaligned on purpose: projections are
/// shifted by whole pixels from buffers the caller allocated.
enum PixelKernels {
    typealias Pixel = SIMD4<UInt64>
    static let pixelSize = BlockGeometry.pixelSize

    @inline(__always)
    static func load(_ base: UnsafeRawPointer, _ offset: Int) -> Pixel {
        base.loadUnaligned(fromByteOffset: offset, as: Pixel.self)
    }

    @inline(__always)
    static func store(_ value: Pixel, _ base: UnsafeMutableRawPointer, _ offset: Int) {
        base.storeBytes(of: value, toByteOffset: offset, as: Pixel.self)
    }

    /// `destination[o] = sources[0][o] ^ ... ^ sources[count-1][o]` for byte offsets o in
    /// `lower..<upper` (whole pixels). Every source must be readable over that range.
    ///
    /// Four pixels per iteration keep four independent XOR chains in flight; the loop over the
    /// sources is the inner one so each destination pixel is stored once.
    static func xor(into destination: UnsafeMutableRawPointer, sources: UnsafePointer<UnsafeRawPointer>,
                    count: Int, lower: Int, upper: Int) {
        var offset = lower
        let step = 4 * pixelSize
        guard count > 0 else {
            (destination + lower).initializeMemory(as: UInt8.self, repeating: 0, count: upper - lower)
            return
        }
        // Eight pixels per iteration when they fit: each source pointer is loaded once per
        // 256 bytes, and eight independent chains keep the load ports busy.
        while offset + 2 * step <= upper {
            let first = sources[0]
            var a = load(first, offset), b = load(first, offset + 32)
            var c = load(first, offset + 64), d = load(first, offset + 96)
            var e = load(first, offset + 128), f = load(first, offset + 160)
            var g = load(first, offset + 192), h = load(first, offset + 224)
            var index = 1
            while index < count {
                let source = sources[index]
                a ^= load(source, offset); b ^= load(source, offset + 32)
                c ^= load(source, offset + 64); d ^= load(source, offset + 96)
                e ^= load(source, offset + 128); f ^= load(source, offset + 160)
                g ^= load(source, offset + 192); h ^= load(source, offset + 224)
                index += 1
            }
            store(a, destination, offset); store(b, destination, offset + 32)
            store(c, destination, offset + 64); store(d, destination, offset + 96)
            store(e, destination, offset + 128); store(f, destination, offset + 160)
            store(g, destination, offset + 192); store(h, destination, offset + 224)
            offset += 2 * step
        }
        while offset + step <= upper {
            let first = sources[0]
            var a = load(first, offset)
            var b = load(first, offset + 32)
            var c = load(first, offset + 64)
            var d = load(first, offset + 96)
            var index = 1
            while index < count {
                let source = sources[index]
                a ^= load(source, offset)
                b ^= load(source, offset + 32)
                c ^= load(source, offset + 64)
                d ^= load(source, offset + 96)
                index += 1
            }
            store(a, destination, offset)
            store(b, destination, offset + 32)
            store(c, destination, offset + 64)
            store(d, destination, offset + 96)
            offset += step
        }
        while offset < upper {
            var a = load(sources[0], offset)
            var index = 1
            while index < count {
                a ^= load(sources[index], offset)
                index += 1
            }
            store(a, destination, offset)
            offset += pixelSize
        }
    }
}

extension PixelKernels {
    /// A source for `xorClipped`: `base + i * pixelSize` is its pixel i, which exists (is nonzero)
    /// only for i in `lower..<upper`; outside it reads as zero and is never touched.
    struct ClippedSource {
        var base: UnsafeRawPointer
        var lower: Int
        var upper: Int
    }

    /// `destination[i] = XOR of the sources that have a pixel i`, for pixel indices i in `range`.
    /// The stretch where every source has a pixel goes through the wide kernel; the few pixels at
    /// either end, where some sources have run out, are summed one by one with bounds checks.
    static func xorClipped(into destination: UnsafeMutableRawPointer, sources: UnsafeMutableBufferPointer<ClippedSource>,
                           range: Range<Int>) {
        guard !range.isEmpty else { return }
        var fullLower = range.lowerBound, fullUpper = range.upperBound
        for source in sources {
            fullLower = max(fullLower, source.lower)
            fullUpper = min(fullUpper, source.upper)
        }
        // Source by source over the stretch it covers: no branch depends on the pixel, so the
        // ragged ends (most of a small block) cost no mispredictions.
        func withBoundsChecks(_ part: Range<Int>) {
            guard !part.isEmpty else { return }
            for index in part { store(Pixel(), destination, index * pixelSize) }
            for source in sources {
                var index = max(part.lowerBound, source.lower)
                let end = min(part.upperBound, source.upper)
                while index < end {
                    store(load(destination, index * pixelSize) ^ load(source.base, index * pixelSize), destination, index * pixelSize)
                    index += 1
                }
            }
        }
        guard fullLower < fullUpper else { return withBoundsChecks(range) }
        withBoundsChecks(range.lowerBound..<fullLower)
        withBoundsChecks(fullUpper..<range.upperBound)
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: sources.count) { pointers in
            for (index, source) in sources.enumerated() { pointers[index] = source.base }
            xor(into: destination, sources: UnsafePointer(pointers.baseAddress!), count: sources.count,
                lower: fullLower * pixelSize, upper: fullUpper * pixelSize)
        }
    }
}
