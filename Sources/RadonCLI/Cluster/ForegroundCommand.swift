import Foundation

/// Runs another program to completion and captures what it printed: the tools the CLI drives
/// for a moment (ip, tc, smbpasswd), as opposed to the daemons `BackgroundProcess` starts.
enum ForegroundCommand {
    /// Runs `executable` (an absolute path) with `arguments`, `input` on its standard input
    /// (nothing when nil), and waits; its exit status and both output streams, interleaved.
    static func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        try process.run()
        if let stdin, let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
