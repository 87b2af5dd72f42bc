import Foundation

/// Runs the built `qtop` executable, as a user would, and captures its exit status and output.
public struct QtopRun {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum QtopBinary {
    /// The `qtop` built next to the test bundle (override with QTOP_BIN).
    public static var path: String {
        if let p = ProcessInfo.processInfo.environment["QTOP_BIN"], !p.isEmpty { return p }
        var dir = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("qtop").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return RepoPaths.root + "/.build/debug/qtop"
    }

    public static func run(_ args: [String], environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> QtopRun {
        try runProcess(path, args, environment: environment, timeout: timeout)
    }
}

/// Runs any executable with a time limit, capturing its exit status and output.
public func runProcess(_ executable: String, _ args: [String], environment: [String: String] = [:],
                       timeout: TimeInterval = 120) throws -> QtopRun {
    do {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Drain both pipes concurrently so a large output cannot block the child.
        let outData = DataBox(), errData = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { p.terminate() }
        group.wait()
        p.waitUntilExit()
        return QtopRun(status: p.terminationStatus, stdout: String(decoding: outData.data, as: UTF8.self),
                       stderr: String(decoding: errData.data, as: UTF8.self))
    }
}

/// Written by one reader thread, read after the group wait: no concurrent access.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
