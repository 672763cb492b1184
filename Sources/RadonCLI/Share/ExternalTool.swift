import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A program of another project the re-export commands run (smbd, smbpasswd, ganesha.nfsd),
/// found where Debian installs it or on PATH, with the package to install when it is missing.
struct ExternalTool: Sendable {
    var name: String
    /// The Debian package(s) that install it, for the error message.
    var package: String

    /// Its absolute path; a clear error naming the package when it is not installed.
    func locate() throws(ShareConfigurationError) -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] + path.split(separator: ":").map(String.init)
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw .init("\(name) is not installed; install Debian's \(package) (apt-get install -y \(package))")
    }

    /// Replaces this process with the tool (execv): a supervisor (systemd, a test) that started
    /// `radonfs share …` then watches and signals the server itself, with the same pid.
    func replaceProcess(arguments: [String]) throws -> Never {
        let executable = try locate()
        // What this process printed but had not written yet would be lost with its image.
        fflush(nil)
        // The server reads nothing from us; and smbd in the foreground takes EOF on a pipe as
        // stdin as its supervisor's death and exits, so a pipe from a parent that closes it
        // (a test runner, a shell script) would stop the server.
        let null = open("/dev/null", O_RDONLY)
        if null > 0 {
            dup2(null, 0)
            close(null)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        execv(executable, argv)
        let reason = String(cString: strerror(errno))
        throw ShareConfigurationError("could not start \(executable): \(reason)")
    }

    /// Runs the tool with `input` on its standard input and waits; returns its exit status and
    /// what it printed (both streams).
    func run(_ arguments: [String], input: String) throws -> (status: Int32, output: String) {
        try ForegroundCommand.run(try locate(), arguments, input: input)
    }
}
