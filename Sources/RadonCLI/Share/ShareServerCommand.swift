import ArgumentParser

/// A rendered server configuration: checked before anything is written or started.
protocol ShareServerConfiguration {
    func validate() throws(ShareConfigurationError)
    func render() -> String
}

extension SambaConfiguration: ShareServerConfiguration {}
extension GaneshaConfiguration: ShareServerConfiguration {}

/// What `share smb` and `share nfs` do alike: check the options as a configuration, print it
/// (--print-config), or check the directory is on a RadonFS mount, write the server's state,
/// and become the server.
protocol ShareServerCommand: ParsableCommand {
    associatedtype Configuration: ShareServerConfiguration
    var path: String { get }
    var anyFileSystem: Bool { get }
    var printConfig: Bool { get }
    /// The server program.
    var server: ExternalTool { get }
    func configuration(path: String) -> Configuration
    /// Checks what the server needs besides the configuration, writes its state directory
    /// and configuration file; returns the server's arguments.
    func prepare(_ configuration: Configuration) throws -> [String]
}

extension ShareServerCommand {
    func validate() throws {
        do { try configuration(path: path).validate() } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        if printConfig {
            print(configuration(path: path).render(), terminator: "")
            return
        }
        do {
            _ = try server.locate()
            let directory = anyFileSystem ? path : try MountedFileSystem.requireRadonFSDirectory(path)
            try server.replaceProcess(arguments: try prepare(configuration(path: directory)))
        } catch let error as ShareConfigurationError {
            throw CLIError(error.description)
        }
    }
}
