import Foundation
import QtopFormat

/// Builds small Paddle programs and params files in memory, so format tests don't depend on generated samples.
public struct TinyModel {
    public var program = ProgramDesc()
    /// Stored parameters: name → (dtype, dims, raw bytes).
    public var params: [(name: String, dtype: DType, dims: [Int], bytes: [UInt8])] = []

    public init() {
        var block = BlockDesc()
        block.idx = 0
        block.parentIdx = -1
        program.blocks = [block]
    }

    public mutating func addVar(_ name: String, dtype: DType = .f32, dims: [Int], persistable: Bool = false) {
        var v = VarDesc()
        v.name = name
        v.persistable = persistable
        var t = Paddle_Framework_Proto_VarType()
        t.type = .lodTensor
        var lt = Paddle_Framework_Proto_VarType.LoDTensorDesc()
        var td = Paddle_Framework_Proto_VarType.TensorDesc()
        td.dataType = Paddle_Framework_Proto_VarType.TypeEnum(rawValue: dtype.paddleCode) ?? .fp32
        td.dims = dims.map { Int64($0) }
        lt.tensor = td
        t.lodTensor = lt
        v.type = t
        program.blocks[0].vars.append(v)
    }

    public mutating func addHolder(_ name: String, type: Paddle_Framework_Proto_VarType.TypeEnum) {
        var v = VarDesc()
        v.name = name
        v.persistable = true
        var t = Paddle_Framework_Proto_VarType()
        t.type = type
        v.type = t
        program.blocks[0].vars.append(v)
    }

    public mutating func addOp(_ type: String, inputs: [String: [String]], outputs: [String: [String]],
                               ints: [String: [Int32]] = [:], int: [String: Int32] = [:], strings: [String: String] = [:],
                               floats: [String: Float] = [:], bools: [String: Bool] = [:]) {
        var op = OpDesc()
        op.type = type
        op.inputs = inputs.sorted { $0.key < $1.key }.map { k, v in
            var s = OpDesc.Var(); s.parameter = k; s.arguments = v; return s
        }
        op.outputs = outputs.sorted { $0.key < $1.key }.map { k, v in
            var s = OpDesc.Var(); s.parameter = k; s.arguments = v; return s
        }
        var attrs: [OpDesc.Attr] = []
        for (k, v) in ints.sorted(by: { $0.key < $1.key }) { var a = OpDesc.Attr(); a.name = k; a.type = .ints; a.ints = v; attrs.append(a) }
        for (k, v) in int.sorted(by: { $0.key < $1.key }) { var a = OpDesc.Attr(); a.name = k; a.type = .int; a.i = v; attrs.append(a) }
        for (k, v) in strings.sorted(by: { $0.key < $1.key }) { var a = OpDesc.Attr(); a.name = k; a.type = .string; a.s = v; attrs.append(a) }
        for (k, v) in floats.sorted(by: { $0.key < $1.key }) { var a = OpDesc.Attr(); a.name = k; a.type = .float; a.f = v; attrs.append(a) }
        for (k, v) in bools.sorted(by: { $0.key < $1.key }) { var a = OpDesc.Attr(); a.name = k; a.type = .boolean; a.b = v; attrs.append(a) }
        op.attrs = attrs
        program.blocks[0].ops.append(op)
    }

    public mutating func addParam(_ name: String, floats: [Float], dims: [Int], declaredDims: [Int]? = nil) {
        addVar(name, dims: declaredDims ?? dims, persistable: true)
        params.append((name, .f32, dims, floats.withUnsafeBytes { Array($0) }))
    }

    public mutating func addParam(_ name: String, int8: [Int8], dims: [Int], declared: DType = .f32) {
        addVar(name, dtype: declared, dims: dims, persistable: true)
        params.append((name, .i8, dims, int8.map { UInt8(bitPattern: $0) }))
    }

    /// One stored tensor in Paddle's stream format.
    public static func tensorBytes(dtype: DType, dims: [Int], data: [UInt8], lod: [[UInt64]] = []) -> [UInt8] {
        var out: [UInt8] = []
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        le(UInt32(0))
        le(UInt64(lod.count))
        for level in lod {
            le(UInt64(level.count * 8))
            for x in level { le(x) }
        }
        le(UInt32(0))
        var td = Paddle_Framework_Proto_VarType.TensorDesc()
        td.dataType = Paddle_Framework_Proto_VarType.TypeEnum(rawValue: dtype.paddleCode) ?? .fp32
        td.dims = dims.map { Int64($0) }
        let desc: [UInt8] = try! td.serializedBytes()
        le(Int32(desc.count))
        out += desc
        out += data
        return out
    }

    /// The combined params file: tensors sorted byte-wise by name.
    public func paramsBytes() -> [UInt8] {
        params.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
            .flatMap { TinyModel.tensorBytes(dtype: $0.dtype, dims: $0.dims, data: $0.bytes) }
    }

    public func programBytes() -> [UInt8] { try! program.serializedBytes() }

    /// Writes NAME.pdmodel and NAME.pdiparams into `dir`; returns the .pdmodel path.
    @discardableResult
    public func write(to dir: String, name: String = "model") -> String {
        let base = (dir as NSString).appendingPathComponent(name)
        FileManager.default.createFile(atPath: base + ".pdmodel", contents: Data(programBytes()))
        FileManager.default.createFile(atPath: base + ".pdiparams", contents: Data(paramsBytes()))
        return base + ".pdmodel"
    }

    /// feed(x [-1,2,4,4]) → conv2d(3x3, pad 1, 3 out channels) → relu → fetch. `inputDims` declares x otherwise,
    /// e.g. [-1,2,-1,-1] for a model whose height and width are only known at run time.
    public static func convRelu(inputDims: [Int] = [-1, 2, 4, 4]) -> TinyModel {
        var m = TinyModel()
        m.addHolder("feed", type: .feedMinibatch)
        m.addHolder("fetch", type: .fetchList)
        m.addVar("x", dims: inputDims)
        m.addParam("conv_w", floats: (0..<54).map { Float($0 % 7) * 0.1 - 0.3 }, dims: [3, 2, 3, 3])
        m.addVar("conv_out", dims: [-1, 3, 4, 4])
        m.addVar("relu_out", dims: [-1, 3, 4, 4])
        m.addOp("feed", inputs: ["X": ["feed"]], outputs: ["Out": ["x"]], int: ["col": 0])
        m.addOp("conv2d", inputs: ["Input": ["x"], "Filter": ["conv_w"]], outputs: ["Output": ["conv_out"]],
                ints: ["strides": [1, 1], "paddings": [1, 1], "dilations": [1, 1]], int: ["groups": 1],
                strings: ["padding_algorithm": "EXPLICIT", "data_format": "NCHW"])
        m.addOp("relu", inputs: ["X": ["conv_out"]], outputs: ["Out": ["relu_out"]])
        m.addOp("fetch", inputs: ["X": ["relu_out"]], outputs: ["Out": ["fetch"]], int: ["col": 0])
        return m
    }
}

/// A fresh temporary directory per call.
public func makeTempDir(_ tag: String = "qtop") -> String {
    let dir = NSTemporaryDirectory() + "\(tag)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
