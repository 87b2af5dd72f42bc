import Foundation
import QtopTestSupport
import XCTest

/// Drives the real binary in tmux as a person would: start, step a pass, switch to the profile, sort, open a
/// layer's detail, quit — and checks the terminal is handed back with exit status 0.
final class TUIEndToEndTests: XCTestCase {
    let session = "qtop-e2e-\(getpid())"

    /// Runs a tmux command. Output is captured only when asked for: `new-session` forks the tmux server, which
    /// would inherit (and hold open) a capture pipe.
    @discardableResult
    func tmux(_ args: [String], capture: Bool = false) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["tmux"] + args
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        guard capture else {
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            return ""
        }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session], capture: true) }

    /// Polls the screen until `predicate` holds (or fails after `timeout` seconds).
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 20, _ predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if predicate(last) { return last }
            usleep(100_000)
        }
        XCTFail("timed out waiting for \(what); screen was:\n\(last)")
        return last
    }

    override func tearDown() {
        _ = try? tmux(["kill-session", "-t", session])
    }

    func testStartStepSortDetailQuit() throws {
        guard (try? tmux(["-V"], capture: true))?.hasPrefix("tmux") == true else { throw XCTSkip("tmux is not installed") }
        let model = RepoPaths.sample("shapes_int8.pdmodel")
        let cmd = "cd '\(RepoPaths.root)' && '\(QtopBinary.path)' '\(model)' --view graph; echo QTOP_EXIT=$?; sleep 30"
        try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "30", "env", "LANG=C.UTF-8", "TERM=xterm-256color", "sh", "-c", cmd])

        // The graph is visible at the final pass, with integer convolutions.
        let start = Date()
        let first = try waitFor("the graph view") { $0.contains("step 8/8") && $0.contains("qconv2d") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "graph should appear quickly")
        XCTAssertTrue(first.contains("Passes"), first)

        // Step back one pass: the lower-int8 step.
        try tmux(["send-keys", "-t", session, "Left"])
        try waitFor("step 7") { $0.contains("step 7/8 lower-int8") }
        // All the way back to the graph as loaded: QDQ ops are there.
        for _ in 0..<8 { try tmux(["send-keys", "-t", session, "Left"]) }
        try waitFor("step 0") { $0.contains("step 0/8") && $0.contains("quantize_linear") }

        // Profile view with live ISA names; change the sort column.
        try tmux(["send-keys", "-t", session, "2"])
        let profile = try waitFor("the profile with implementations") { $0.contains("Implementation") && $0.contains(":i8") }
        XCTAssertTrue(profile.contains("qconv2d"), profile)
        try tmux(["send-keys", "-t", session, ">"])
        try waitFor("sort moved") { $0.contains("Share↓") || $0.contains("Prec↓") || $0.contains("Share ↓") }

        // Detail of the top row: dispatch decision and provenance.
        try tmux(["send-keys", "-t", session, "Enter"])
        let detail = try waitFor("the layer detail") { $0.contains("Dispatch") && $0.contains("Provenance") }
        XCTAssertTrue(detail.contains("chosen"), detail)
        try tmux(["send-keys", "-t", session, "Escape"])

        // Quit: the program exits 0 and the shell prints after it (the terminal was restored).
        try tmux(["send-keys", "-t", session, "q"])
        let end = try waitFor("exit") { $0.contains("QTOP_EXIT=") }
        XCTAssertTrue(end.contains("QTOP_EXIT=0"), end)
    }

    func testBadModelErrorsBeforeTakingTheScreen() throws {
        let r = try QtopBinary.run(["/nonexistent.pdmodel"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("/nonexistent.pdmodel"), r.stderr)
    }
}
