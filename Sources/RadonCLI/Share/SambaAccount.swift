import Foundation
import RadonWire

#if canImport(Glibc)
import Glibc
#endif

/// What the SMB commands check and make before Samba runs.
enum SambaAccount {
    /// Samba maps an SMB account onto the Unix user of the same name; without one it would
    /// refuse every login with an error that does not say why.
    static func requireUnixUser(_ name: String) throws(ShareConfigurationError) {
        guard getpwnam(name) != nil else {
            throw .init("there is no Unix user \"\(name)\" on this machine; create it first (useradd --no-create-home --shell /usr/sbin/nologin \(name))")
        }
    }

    /// The state directory (0700: it holds password hashes) and every directory Samba writes.
    static func prepareStateDirectory(_ samba: SambaConfiguration) throws {
        try PrivateState.makeDirectory(samba.stateDirectory)
        for directory in samba.stateDirectories {
            try PrivateState.makeDirectories(directory.path, mode: mode_t(directory.mode))
        }
    }
}
