/// The erasure codes a volume can choose.
///
/// The raw values are what volumes, the wire and the CLI spell, so they never change.
public enum CodecKind: String, Sendable, Codable, CaseIterable {
    /// Mojette transform, systematic: the k data lines are stored as they are, plus n-k projections.
    /// The default: a reader with every data line decodes nothing.
    case mojetteSystematic = "mojette-systematic"
    /// Mojette transform as RozoFS defines it: n projections, none of them the data itself.
    case mojetteClassic = "mojette"
    /// Reed-Solomon over GF(2^8) with a Cauchy matrix, computed by ISA-L; the reference.
    case reedSolomon = "rs"
}
