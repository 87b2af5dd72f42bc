import QtopFormat
import QtopGraph
import QtopProfile

// Input shapes in the UI: the one-line prompt that asks for them (at startup when the model has unknown dims,
// and on `s`), what the header shows, and the reducer's part. Pure: validation is the CLI's `--shape` parser.

/// The shape prompt being edited on the key bar line.
public struct ShapePrompt: Equatable, Sendable {
    /// The text as typed: `[1,3,640,640]` for a single input, `a=[..],b=[..]` otherwise (the `--shape` grammar).
    public var text: String
    /// Why the last Enter was refused (shown on the status line until the next edit).
    public var error: String?

    public init(text: String, error: String? = nil) {
        self.text = text
        self.error = error
    }
}

extension AppState {
    /// The model's inputs as declared (the graph as loaded).
    public var declaredInputs: [DeclaredInput] {
        guard let g = passes.first?.graph else { return [] }
        return g.inputs.map { DeclaredInput(name: $0, shape: g.values[$0]?.shape, elementBytes: (g.values[$0]?.dtype ?? .f32).byteSize) }
    }

    /// The shapes shown in the header: what the running plan uses, else what was asked for, else as declared.
    public var shownInputShapes: [(String, [Int]?)] {
        let declared = declaredInputs
        if let running = snapshot?.inputShapes, !running.isEmpty, pendingShapes == nil {
            return running.map { ($0.name, $0.dims) }
        }
        if let asked = pendingShapes ?? requestedShapes {
            return declared.map { ($0.name, asked[$0.name] ?? $0.shape) }
        }
        return declared.map { ($0.name, $0.shape) }
    }

    /// True when nothing can run until the user gives shapes (they were unknown and the prompt was left).
    public var shapesUnset: Bool { shapesNeeded && requestedShapes == nil }

    /// The prompt's starting text: the shapes in use or asked for, else a suggestion per input.
    func promptText() -> String {
        let declared = declaredInputs
        let current = requestedShapes ?? Dictionary(
            (snapshot?.inputShapes ?? []).map { ($0.name, $0.dims) }, uniquingKeysWith: { a, _ in a })
        let shapes = declared.map { d in
            (d.name, current[d.name] ?? givenShapes[d.name] ?? InputShapes.defaultShape(d) ?? InputShapes.suggestion(d))
        }
        return InputShapes.text(shapes, bare: declared.count == 1)
    }
}

/// Opens the prompt with its starting text.
func openShapePrompt(_ s: inout AppState) {
    s.shapePrompt = ShapePrompt(text: s.promptText())
}

/// Keys while the prompt is open: edit, Enter accepts (if valid), Esc leaves the shapes as they were.
func reduceShapePromptKey(_ s: inout AppState, _ key: Key) -> [Effect] {
    guard var prompt = s.shapePrompt else { return [] }
    switch key {
    case .char(let c):
        prompt.text.append(c)
        prompt.error = nil
    case .backspace:
        if !prompt.text.isEmpty { prompt.text.removeLast() }
        prompt.error = nil
    case .ctrl("u"):
        prompt.text = ""
        prompt.error = nil
    case .escape:
        s.shapePrompt = nil
        if s.shapesUnset { s.message = "no input shapes: nothing runs; press s to set them" ; s.messageTicks = 0 }
        return []
    case .enter:
        let declared = s.declaredInputs
        let shapes: [String: [Int]]
        do {
            let given = try InputShapes.parse([prompt.text], inputs: declared)
            switch InputShapes.resolve(declared, given: given) {
            case .success(let all): shapes = all
            case .failure(let e): throw e
            }
        } catch {
            prompt.error = "\(error)"
            s.shapePrompt = prompt
            return []
        }
        s.shapePrompt = nil
        s.requestedShapes = shapes
        s.pendingShapes = shapes
        s.pendingTicks = 0
        return [.setInputShapes(shapes)]
    default:
        break
    }
    s.shapePrompt = prompt
    return []
}

/// A snapshot at the asked-for shapes ends the "recompiling" wait.
func settleShapes(_ s: inout AppState, _ snap: ProfileSnapshot) {
    guard let want = s.pendingShapes else { return }
    let have = Dictionary(snap.inputShapes.map { ($0.name, $0.dims) }, uniquingKeysWith: { a, _ in a })
    if want.allSatisfy({ have[$0.key] == $0.value }) { s.pendingShapes = nil }
}
