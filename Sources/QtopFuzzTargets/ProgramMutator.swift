import Foundation
import QtopFormat
import QtopGraph
import SwiftProtobuf

/// Structure-aware mutations of a Paddle ProgramDesc: the input is decoded with the generated types, one to three
/// fields are changed — attribute values and list lengths, attribute types, tensor dims, dtypes, var kinds, op types,
/// slot arguments, op order — and the result re-encoded, so nearly every mutant still parses and reaches the code
/// behind the decoder (validation, shape inference, passes, planning). Byte-level damage is left to libFuzzer.
public struct ProgramMutator {
    var rng: SplitMix64

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Values that sit on the edges readers and shape rules get wrong: zero, negatives, powers of two around bit
    /// widths, and sizes whose products overflow or whose allocations cannot succeed.
    static let interestingInts: [Int64] = [0, 1, -1, 2, 3, -2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255,
                                           256, 1 << 15, 1 << 16, Int64(Int32.max), Int64(Int32.min), 1 << 31,
                                           1_000_000_000, 1 << 40, Int64.max, Int64.min]
    static let interestingFloats: [Float] = [0, -0.0, 1, -1, 0.5, 1e-30, 1e30, .infinity, -.infinity, .nan,
                                             .leastNonzeroMagnitude, .greatestFiniteMagnitude, 127, 128, -128]
    static let opTypes = ["conv2d", "depthwise_conv2d", "pool2d", "matmul", "matmul_v2", "mul", "fc", "batch_norm",
                          "relu", "relu6", "sigmoid", "hard_swish", "swish", "elementwise_add", "elementwise_mul",
                          "elementwise_sub", "elementwise_div", "concat", "reshape2", "flatten_contiguous_range",
                          "transpose2", "softmax", "scale", "squeeze2", "unsqueeze2", "slice", "split", "mean",
                          "reduce_mean", "quantize_linear", "dequantize_linear", "fake_quantize_dequantize_abs_max",
                          "fake_channel_wise_quantize_dequantize_abs_max", "fake_quantize_moving_average_abs_max",
                          "dropout", "feed", "fetch", "shape", "fill_constant", "cast", "assign", "unknown_op"]
    static let strings = ["NCHW", "NHWC", "AnyLayout", "SAME", "VALID", "EXPLICIT", "max", "avg", "", "abs_max",
                          "channel_wise_abs_max", "upscale_in_train", "downgrade_in_infer"]

    /// Mutates `program` in place; returns false when it has nothing to mutate (no blocks).
    public mutating func mutate(_ program: inout ProgramDesc) -> Bool {
        guard !program.blocks.isEmpty else { return false }
        let b = pick(program.blocks.count)
        for _ in 0..<(1 + pick(3)) { mutate(block: &program.blocks[b]) }
        return true
    }

    /// Decodes, mutates and re-encodes; nil when `data` is not a ProgramDesc (the caller falls back to bytes).
    public mutating func mutate(encoded data: Data) -> Data? {
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = 64
        guard var program = try? ProgramDesc(serializedBytes: data, partial: true, options: options),
              mutate(&program) else { return nil }
        return try? program.serializedData(partial: true)
    }

    mutating func mutate(block: inout BlockDesc) {
        switch pick(12) {
        case 0, 1, 2: if !block.ops.isEmpty { mutateAttr(op: &block.ops[pick(block.ops.count)], block: block) }
        case 3: if !block.ops.isEmpty { retypeAttr(op: &block.ops[pick(block.ops.count)]) }
        case 4, 5: if !block.vars.isEmpty { mutateDims(&block.vars[pick(block.vars.count)]) }
        case 6: if !block.vars.isEmpty { mutateVarType(&block.vars[pick(block.vars.count)]) }
        case 7: if !block.ops.isEmpty { block.ops[pick(block.ops.count)].type = element(Self.opTypes) }
        case 8: if !block.ops.isEmpty { mutateSlots(op: &block.ops[pick(block.ops.count)], block: block) }
        case 9: mutateOpList(&block)
        case 10: if !block.ops.isEmpty { moveAttr(block: &block) }
        default: if !block.vars.isEmpty { block.vars.remove(at: pick(block.vars.count)) }
        }
    }

    // MARK: attributes

    mutating func mutateAttr(op: inout OpDesc, block: BlockDesc) {
        guard !op.attrs.isEmpty else { return }
        let i = pick(op.attrs.count)
        var a = op.attrs[i]
        switch a.type {
        case .int: a.i = Int32(truncatingIfNeeded: int())
        case .long: a.l = int()
        case .float: a.f = element(Self.interestingFloats)
        case .float64: a.float64 = Double(element(Self.interestingFloats))
        case .boolean: a.b.toggle()
        case .string: a.s = element(Self.strings + block.vars.map(\.name))
        case .ints: a.ints = mutateList(a.ints) { Int32(truncatingIfNeeded: $0) }
        case .longs: a.longs = mutateList(a.longs) { $0 }
        case .floats: a.floats = mutateList(a.floats) { Self.at(Self.interestingFloats, $0) }
        case .float64S: a.float64S = mutateList(a.float64S) { Double(Self.at(Self.interestingFloats, $0)) }
        case .booleans: a.bools = mutateList(a.bools) { $0 & 1 == 0 }
        case .strings: a.strings = mutateList(a.strings) { Self.at(Self.strings, $0) }
        case .block: a.blockIdx = Int32(truncatingIfNeeded: int())
        case .blocks: a.blocksIdx = mutateList(a.blocksIdx) { Int32(truncatingIfNeeded: $0) }
        case .var: a.varName = block.vars.isEmpty ? "" : block.vars[pick(block.vars.count)].name
        case .vars:
            let names = block.vars.map(\.name) + [""]
            a.varsName = mutateList(a.varsName) { Self.at(names, $0) }
        case .scalar: a.scalar.type = .long; a.scalar.i = int()
        case .scalars: a.scalars = mutateList(a.scalars) { v in var s = Paddle_Framework_Proto_Scalar(); s.type = .long; s.i = v; return s }
        }
        op.attrs[i] = a
    }

    /// Changes an attribute's declared type (the payload fields stay), or drops the attribute.
    mutating func retypeAttr(op: inout OpDesc) {
        guard !op.attrs.isEmpty else { return }
        let i = pick(op.attrs.count)
        if pick(3) == 0 { op.attrs.remove(at: i); return }
        op.attrs[i].type = element(Paddle_Framework_Proto_AttrType.allCases)
    }

    /// Copies an attribute from one op to another (same name, maybe a different op type).
    mutating func moveAttr(block: inout BlockDesc) {
        let from = block.ops[pick(block.ops.count)]
        guard !from.attrs.isEmpty else { return }
        let a = from.attrs[pick(from.attrs.count)]
        let to = pick(block.ops.count)
        block.ops[to].attrs.removeAll { $0.name == a.name }
        block.ops[to].attrs.append(a)
    }

    /// Shrinks (to empty), grows, or rewrites one element of a list.
    mutating func mutateList<T>(_ list: [T], _ make: (Int64) -> T) -> [T] {
        var l = list
        switch pick(5) {
        case 0: l = []
        case 1: if !l.isEmpty { l.removeLast(1 + pick(l.count)) }
        case 2: for _ in 0..<(1 + pick(4)) { l.append(make(int())) }
        default:
            if l.isEmpty { l.append(make(int())) } else { l[pick(l.count)] = make(int()) }
        }
        return l
    }

    // MARK: variables

    mutating func mutateDims(_ v: inout VarDesc) {
        var dims = v.type.lodTensor.tensor.dims
        switch pick(4) {
        case 0: dims = mutateList(dims) { $0 }
        case 1: if !dims.isEmpty { dims[pick(dims.count)] = element([0, -1, 1, 1 << 31, 1_000_000_000, 1 << 20, Int64.max]) }
        case 2: dims.insert(int(), at: pick(dims.count + 1))
        default: if !dims.isEmpty { dims.remove(at: pick(dims.count)) }
        }
        v.type.lodTensor.tensor.dims = dims
    }

    mutating func mutateVarType(_ v: inout VarDesc) {
        switch pick(4) {
        case 0: v.type.lodTensor.tensor.dataType = element(Paddle_Framework_Proto_VarType.TypeEnum.allCases)
        case 1: v.type.type = element(Paddle_Framework_Proto_VarType.TypeEnum.allCases)
        case 2: v.persistable.toggle()
        default: v.type.clearLodTensor()
        }
    }

    // MARK: ops

    /// Rewires an argument to another variable, drops an argument or a slot, or renames a slot.
    mutating func mutateSlots(op: inout OpDesc, block: BlockDesc) {
        let inputs = pick(2) == 0
        var slots = inputs ? op.inputs : op.outputs
        guard !slots.isEmpty else { return }
        let s = pick(slots.count)
        switch pick(4) {
        case 0: if !block.vars.isEmpty {
            let name = block.vars[pick(block.vars.count)].name
            if slots[s].arguments.isEmpty { slots[s].arguments = [name] } else { slots[s].arguments[pick(slots[s].arguments.count)] = name }
        }
        case 1: if !slots[s].arguments.isEmpty { slots[s].arguments.remove(at: pick(slots[s].arguments.count)) }
        case 2: slots.remove(at: s)
        default: slots[s].parameter = element(["X", "Y", "Input", "Filter", "Bias", "Out", "Output", "Scale", "ZeroPoint",
                                               "Mean", "Variance", "Residual", "InScale", "OutScale", "Axis"])
        }
        if inputs { op.inputs = slots } else { op.outputs = slots }
    }

    mutating func mutateOpList(_ block: inout BlockDesc) {
        guard !block.ops.isEmpty else { return }
        let i = pick(block.ops.count)
        switch pick(3) {
        case 0: block.ops.remove(at: i)
        case 1: block.ops.insert(block.ops[i], at: pick(block.ops.count + 1))
        default: block.ops.swapAt(i, pick(block.ops.count))
        }
    }

    // MARK: randomness

    mutating func pick(_ n: Int) -> Int { n <= 1 ? 0 : Int(rng.next() % UInt64(n)) }
    mutating func element<T>(_ a: [T]) -> T { a[pick(a.count)] }
    /// An element chosen by a drawn integer (for list builders, which cannot draw themselves).
    static func at<T>(_ a: [T], _ v: Int64) -> T { a[Int(UInt64(bitPattern: v) % UInt64(a.count))] }
    /// An interesting integer most of the time, else a small one.
    mutating func int() -> Int64 { pick(4) == 0 ? Int64(pick(20)) - 4 : element(Self.interestingInts) }
}
