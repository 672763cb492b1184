extension WireAddress {
    /// Whether `host` is a wildcard (0.0.0.0, ::): a daemon may listen on one, but no peer can
    /// connect to it, so it is never an address to hand out.
    public static func isWildcard(host: String) -> Bool {
        ["0.0.0.0", "::", "[::]", "*"].contains(host)
    }

    /// The address peers should use for a daemon bound here: this one, with `hostName` in place
    /// of a wildcard host (as the storage daemon does without --advertise-host).
    public func advertised(hostName: String) -> WireAddress {
        Self.isWildcard(host: host) ? WireAddress(host: hostName, port: port) : self
    }
}
