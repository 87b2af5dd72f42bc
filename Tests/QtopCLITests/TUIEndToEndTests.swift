import Foundation
import QtopTestSupport
import XCTest

/// Drives the real binary in tmux as a person would (tui_e2e.sh): start, step a pass, step back to the graph as
/// loaded, switch to the profile, sort, open a layer's detail, quit — the terminal is handed back with exit 0.
final class TUIEndToEndTests: XCTestCase {
    func testStartStepSortDetailQuit() throws {
        guard (try? runProcess("/usr/bin/env", ["tmux", "-V"], timeout: 10))?.status == 0 else {
            throw XCTSkip("tmux is not installed")
        }
        let script = RepoPaths.root + "/Tests/QtopCLITests/tui_e2e.sh"
        let r = try runProcess("/usr/bin/env", ["bash", script, QtopBinary.path, RepoPaths.sample("shapes_int8.pdmodel")],
                               timeout: 150)
        let steps = r.stdout.split(separator: "\n").filter { $0.hasPrefix("STEP ") }.map { String($0.dropFirst(5)) }
        XCTAssertEqual(steps, ["graph", "lower", "loaded", "profile", "sorted", "detail", "quit"], r.stdout + r.stderr)
        // The graph view appears quickly after start (the first frame, passes included).
        let elapsed = r.stdout.split(separator: "\n").first { $0.hasPrefix("ELAPSED ") }.flatMap { Int($0.dropFirst(8)) }
        XCTAssertLessThanOrEqual(try XCTUnwrap(elapsed), 5, "seconds until the graph was visible")
        XCTAssertEqual(r.status, 0, r.stdout)
    }

    /// A model with unknown height and width (tui_shape_e2e.sh): the prompt, a refused shape, Enter, `s`, quit.
    func testShapePromptAndChange() throws {
        guard (try? runProcess("/usr/bin/env", ["tmux", "-V"], timeout: 10))?.status == 0 else {
            throw XCTSkip("tmux is not installed")
        }
        let model = TinyModel.convRelu(inputDims: [-1, 2, -1, -1]).write(to: makeTempDir())
        let script = RepoPaths.root + "/Tests/QtopCLITests/tui_shape_e2e.sh"
        let r = try runProcess("/usr/bin/env", ["bash", script, QtopBinary.path, model], timeout: 150)
        let steps = r.stdout.split(separator: "\n").filter { $0.hasPrefix("STEP ") }.map { String($0.dropFirst(5)) }
        XCTAssertEqual(steps, ["prompt", "refused", "running", "reopened", "changed", "quit"], r.stdout + r.stderr)
        XCTAssertEqual(r.status, 0, r.stdout)
    }

    /// SIGINT, SIGTERM, SIGHUP, a SIGWINCH storm and a fatal signal (what a trap in the runner thread raises): every
    /// time the terminal is handed back in canonical mode with echo, off the alternate screen (tui_signals.sh).
    func testSignalsHandTheTerminalBack() throws {
        guard (try? runProcess("/usr/bin/env", ["tmux", "-V"], timeout: 10))?.status == 0 else {
            throw XCTSkip("tmux is not installed")
        }
        let script = RepoPaths.root + "/Tests/QtopCLITests/tui_signals.sh"
        let r = try runProcess("/usr/bin/env", ["bash", script, QtopBinary.path, RepoPaths.sample("shapes_int8.pdmodel")],
                               timeout: 240)
        let cases = r.stdout.split(separator: "\n").filter { $0.hasPrefix("CASE ") }.map { String($0.dropFirst(5)) }
        // Killed by the signal after restoring: 128 + signal number; the storm ends with a normal quit.
        XCTAssertEqual(cases, ["INT exit=130 tty=ok", "TERM exit=143 tty=ok", "HUP exit=129 tty=ok",
                               "WINCH exit=0 tty=ok", "ABRT exit=134 tty=ok"], r.stdout + r.stderr)
    }

    func testBadModelErrorsBeforeTakingTheScreen() throws {
        let r = try QtopBinary.run(["/nonexistent.pdmodel"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("/nonexistent.pdmodel"), r.stderr)
    }
}
