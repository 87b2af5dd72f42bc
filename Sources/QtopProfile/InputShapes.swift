/// A model input as the program declares it: the facts `--shape` is checked against. Plain values, so the CLI and
/// the UI's shape prompt validate with the same code.
public struct DeclaredInput: Sendable, Equatable {
    public var name: String
    /// Declared dims, negative = unknown (Paddle writes -1); nil when even the rank is unknown.
    public var shape: [Int]?
    /// Bytes per element (for the size bound).
    public var elementBytes: Int

    public init(name: String, shape: [Int]?, elementBytes: Int = 4) {
        self.name = name
        self.shape = shape
        self.elementBytes = max(1, elementBytes)
    }

    /// True when some dim other than the leading batch is unknown (the batch alone defaults to 1).
    public var needsShape: Bool {
        guard let s = shape else { return true }
        return s.dropFirst().contains { $0 < 0 }
    }
}

/// A `--shape` value that cannot be used: one line, no flag name (the caller adds its context).
public struct ShapeSpecError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Input shapes as the user writes them, benchmark_app's way:
///
///     spec   := item ("," item)*            several items in one argument, or one per repeated --shape
///     item   := NAME "=" dims | NAME dims | dims     (bare dims only when the model has exactly one input)
///     dims   := "[" [int ("," int)*] "]"
///     NAME   := any characters but "=", "[", "]", ","; blanks around it are ignored
///
/// and the rules a shape must follow: the input exists, given once, rank = declared rank, a fixed declared dim
/// is kept, every dim in 1…`maxDim`, element count ≤ `maxElements` and ≤ `maxBytes` bytes (overflow-checked).
public enum InputShapes {
    public static let maxDim = Int(Int32.max)
    public static let maxElements = 1 << 32
    public static let maxBytes = 1 << 34

    /// `[1,3,640,640]`: how shapes are written in messages and prompts (no blanks, so it pastes into a shell).
    public static func text(_ dims: [Int]) -> String { "[" + dims.map(String.init).joined(separator: ",") + "]" }

    /// `x=[1,3,640,640]`, or the bare `[1,3,640,640]` when `bare` (a single-input model).
    public static func text(_ shapes: [(String, [Int])], bare: Bool) -> String {
        if bare, shapes.count == 1 { return text(shapes[0].1) }
        return shapes.map { "\($0.0)=\(text($0.1))" }.joined(separator: ",")
    }

    /// Parses and validates every argument against the declared inputs. Returns the shapes by input name.
    public static func parse(_ arguments: [String], inputs: [DeclaredInput]) throws -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for arg in arguments {
            for (name, dims) in try parseSyntax(arg) {
                let target: DeclaredInput
                if let name {
                    guard let d = inputs.first(where: { $0.name == name }) else {
                        let names = inputs.map(\.name).joined(separator: ", ")
                        throw ShapeSpecError("the model has no input named '\(name)' (inputs: \(names))")
                    }
                    target = d
                } else {
                    guard inputs.count == 1 else {
                        let names = inputs.map(\.name).joined(separator: ", ")
                        throw ShapeSpecError("\(text(dims)) without a name: the model has \(inputs.count) inputs (\(names)); write NAME=\(text(dims))")
                    }
                    target = inputs[0]
                }
                guard out[target.name] == nil else { throw ShapeSpecError("input '\(target.name)' is given twice") }
                try validate(dims, for: target)
                out[target.name] = dims
            }
        }
        return out
    }

    /// Checks one shape against its input's declaration and the size bounds.
    public static func validate(_ dims: [Int], for input: DeclaredInput) throws {
        let n = input.name
        if let declared = input.shape, declared.count != dims.count {
            throw ShapeSpecError("input '\(n)' has \(declared.count) dims \(text(declared)), got \(dims.count) in \(text(dims))")
        }
        for (i, d) in dims.enumerated() {
            if d <= 0 { throw ShapeSpecError("input '\(n)': dim \(i) must be positive, got \(d) in \(text(dims))") }
            if d > maxDim { throw ShapeSpecError("input '\(n)': dim \(i) is too large (\(d) > \(maxDim))") }
            if let declared = input.shape, declared[i] >= 0, declared[i] != d {
                throw ShapeSpecError("input '\(n)': dim \(i) is fixed at \(declared[i]) by the model \(text(declared)), got \(d)")
            }
        }
        var count = 1
        for d in dims {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow || p > maxElements {
                throw ShapeSpecError("input '\(n)': \(text(dims)) is too large (more than \(maxElements) elements)")
            }
            count = p
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: input.elementBytes)
        if overflow || bytes > maxBytes {
            throw ShapeSpecError("input '\(n)': \(text(dims)) is too large (more than \(maxBytes >> 30) GiB)")
        }
    }

    /// The syntax alone: (name or nil for bare dims, dims). Numbers may be negative or huge here (validation
    /// reports them with the input's name); anything not a number is an error.
    public static func parseSyntax(_ arg: String) throws -> [(String?, [Int])] {
        var items: [(String?, [Int])] = []
        var rest = Substring(arg)
        func trimLeading() { while let c = rest.first, c == " " || c == "\t" { rest.removeFirst() } }
        trimLeading()
        if rest.isEmpty { throw ShapeSpecError("empty shape; expected e.g. x=[1,3,224,224]") }
        while true {
            trimLeading()
            // Name: everything up to "=" or "[".
            guard let open = rest.firstIndex(of: "[") else {
                throw ShapeSpecError("'\(arg)': expected dims in brackets, e.g. x=[1,3,224,224]")
            }
            var head = rest[..<open]
            while let c = head.last, c == " " || c == "\t" { head.removeLast() }
            if head.last == "=" { head.removeLast() }
            let name = head.trimmingBlanks()
            if name.contains(where: { $0 == "=" || $0 == "]" || $0 == "," }) {
                throw ShapeSpecError("'\(arg)': bad input name '\(name)'")
            }
            guard let close = rest[open...].firstIndex(of: "]") else {
                throw ShapeSpecError("'\(arg)': missing ']'")
            }
            let inner = rest[rest.index(after: open)..<close]
            var dims: [Int] = []
            let inside = inner.trimmingBlanks()
            if !inside.isEmpty {
                for part in inside.split(separator: ",", omittingEmptySubsequences: false) {
                    dims.append(try parseDim(part.trimmingBlanks(), arg))
                }
            }
            items.append((name.isEmpty ? nil : name, dims))
            rest = rest[rest.index(after: close)...]
            trimLeading()
            if rest.isEmpty { break }
            guard rest.first == "," else { throw ShapeSpecError("'\(arg)': expected ',' between inputs, got '\(rest)'") }
            rest.removeFirst()
        }
        return items
    }

    /// A decimal integer (a sign allowed so validation can name a negative dim); more digits than an Int holds
    /// are refused here.
    static func parseDim(_ s: String, _ arg: String) throws -> Int {
        var digits = Substring(s)
        let negative = digits.first == "-"
        if negative { digits.removeFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ShapeSpecError("'\(arg)': '\(s)' is not a whole number")
        }
        guard let v = Int(digits) else { throw ShapeSpecError("'\(arg)': \(s) is too large (max \(maxDim))") }
        return negative ? -v : v
    }

    /// What runs when nothing is given for an input: its declared dims with an unknown leading batch set to 1.
    /// nil when another dim is unknown (the user must say).
    public static func defaultShape(_ input: DeclaredInput) -> [Int]? {
        guard let s = input.shape, !input.needsShape else { return nil }
        return s.enumerated().map { $0.offset == 0 && $0.element < 0 ? 1 : $0.element }
    }

    /// A sensible shape to propose for an input with unknown dims: batch 1; an image (4-D with known channels,
    /// NCHW or NHWC) 640×640, or 320 wide when its height is fixed and small (a text-line recognizer, 48×320);
    /// any other unknown dim 16 (a token sequence, e.g. [1,16]).
    public static func suggestion(_ input: DeclaredInput) -> [Int] {
        guard let s = input.shape else { return [1, 3, 640, 640] }
        var out = s
        let nchw = s.count == 4 && s[1] > 0
        let nhwc = s.count == 4 && s[1] < 0 && s[3] > 0
        let (hi, wi) = nchw ? (2, 3) : (1, 2)
        for i in out.indices where out[i] < 0 {
            if i == 0 {
                out[i] = 1
            } else if (nchw || nhwc) && i == wi && s[hi] > 0 && s[hi] <= 64 {
                out[i] = 320
            } else if (nchw || nhwc) && (i == hi || i == wi) {
                out[i] = 640
            } else {
                out[i] = 16
            }
        }
        return out
    }

    /// The shapes to run with: given ones, else each input's default. Fails naming the first input whose dims
    /// are still unknown, with a `--shape` that would work.
    public static func resolve(_ inputs: [DeclaredInput], given: [String: [Int]]) -> Result<[String: [Int]], ShapeSpecError> {
        var out = given
        for d in inputs where out[d.name] == nil {
            guard let s = defaultShape(d) else {
                let declared = d.shape.map(text) ?? "of unknown rank"
                return .failure(ShapeSpecError("input '\(d.name)' has unknown dims \(declared); pass --shape \(d.name)=\(text(suggestion(d)))"))
            }
            out[d.name] = s
        }
        return .success(out)
    }
}

extension StringProtocol {
    func trimmingBlanks() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
