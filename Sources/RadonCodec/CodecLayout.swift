/// How many data lines a block is cut into (k) and how many fragments are stored (n).
///
/// Any k of the n fragments give the block back, so a block survives n - k lost fragments.
public struct CodecLayout: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The smallest and largest k the codecs accept.
    public static let dataCountRange = 2...16
    /// The smallest and largest n - k the codecs accept.
    public static let redundancyRange = 1...8

    /// k: the number of data lines, and of fragments needed to decode.
    public let dataCount: Int
    /// n: the number of fragments stored.
    public let fragmentCount: Int

    /// n - k: how many fragments may be lost.
    public var redundancyCount: Int { fragmentCount - dataCount }

    /// Checks 2 <= k <= 16 and 1 <= n - k <= 8 so that no codec ever sees a layout it cannot serve.
    public init(k: Int, n: Int) throws(ErasureCodeError) {
        guard Self.dataCountRange.contains(k), Self.redundancyRange.contains(n - k) else {
            throw .unsupportedLayout(k: k, n: n)
        }
        dataCount = k
        fragmentCount = n
    }

    /// Parses "k+m" (as in "4+2", data plus redundancy) or "k/n".
    public init(parsing text: String) throws(ErasureCodeError) {
        if let plus = text.firstIndex(of: "+"),
           let k = Int(text[..<plus]), let m = Int(text[text.index(after: plus)...]) {
            try self.init(k: k, n: k + m)
        } else if let slash = text.firstIndex(of: "/"),
                  let k = Int(text[..<slash]), let n = Int(text[text.index(after: slash)...]) {
            try self.init(k: k, n: n)
        } else {
            throw .unparsableLayout(text)
        }
    }

    /// "k+m", the way the paper and the CLI write layouts.
    public var description: String { "\(dataCount)+\(redundancyCount)" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(k: container.decode(Int.self, forKey: .dataCount),
                      n: container.decode(Int.self, forKey: .fragmentCount))
    }
}
