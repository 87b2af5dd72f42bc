import Foundation
import QtopFormat

enum ChannelShuffleSpecs {
    static let specs: [any OpSpec.Type] = [ChannelShuffleSpec.self]
}

/// fused_channel_shuffle: qtop's own op, made by the `fuse-channel-shuffle` pass from ShuffleNet's
/// concat(axis 1) → reshape2 [N, g, C/g, …] → transpose2 (swap axes 1 and 2) → reshape2 [N, C, …] → split(axis 1)
/// chain (concat and split optional). The inputs X are concatenated along axis 1 into C channels; channel
/// j·g + i of the shuffled tensor is channel i·(C/g) + j of the concatenation; the result is split along axis 1
/// into the outputs Out, `sections` channels each. Every output channel is one whole input channel, so the op moves
/// each plane once (the chain it replaces moved the data five times).
public struct ChannelShuffleSpec: OpSpec {
    public static let opTypes = ["fused_channel_shuffle"]
    public let groups: Int
    /// Channels per output (one entry per Out; empty: a single output with every channel).
    public let sections: [Int]

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        groups = try a.int("groups", default: 1, in: 1...Int(Int32.max))
        sections = try a.ints("sections", default: [], min: 1)
    }

    /// The output sections for `channels` concatenated channels, validated: `sections`, or all channels in one.
    public func outputSections(channels: Int, outputs: Int) throws -> [Int] {
        guard channels > 0, channels % groups == 0 else {
            throw OpSpecError("fused_channel_shuffle: \(channels) channels do not split into \(groups) groups")
        }
        let secs = sections.isEmpty ? [channels] : sections
        guard secs.count == outputs else { throw OpSpecError("fused_channel_shuffle: \(secs.count) sections for \(outputs) outputs") }
        var sum = 0
        for s in secs {
            let (r, o) = sum.addingReportingOverflow(s)
            guard !o else { throw OpSpecError("fused_channel_shuffle: sections overflow") }
            sum = r
        }
        guard sum == channels else { throw OpSpecError("fused_channel_shuffle: sections \(secs) do not sum to \(channels) channels") }
        return secs
    }

    /// For each channel of the shuffled tensor, in order (output 0's channels first), the input it copies and the
    /// channel within that input. `inputChannels` are the inputs' extents along axis 1.
    public func sources(inputChannels: [Int]) throws -> [(input: Int, channel: Int)] {
        guard !inputChannels.isEmpty, inputChannels.allSatisfy({ $0 > 0 && $0 <= Int(Int32.max) }),
              inputChannels.count <= Int(Int32.max) else {
            throw OpSpecError("fused_channel_shuffle: bad input channels \(inputChannels)")
        }
        let total = inputChannels.reduce(0, +)
        guard total <= Int(Int32.max), total % groups == 0 else {
            throw OpSpecError("fused_channel_shuffle: input channels \(inputChannels) do not split into \(groups) groups")
        }
        var owner: [(Int, Int)] = []
        owner.reserveCapacity(total)
        for (k, c) in inputChannels.enumerated() { for ch in 0..<c { owner.append((k, ch)) } }
        let per = total / groups
        return (0..<total).map { c in owner[(c % groups) * per + c / groups] }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let xs = try s.node.inputs("X").map { name -> [Int] in
            guard let shape = s.values[name]?.shape else { throw OpSpecError("fused_channel_shuffle: unknown input shape") }
            return shape
        }
        guard let first = xs.first, first.count >= 2 else { throw OpSpecError("fused_channel_shuffle: needs inputs of rank ≥ 2") }
        for x in xs.dropFirst() {
            guard x.count == first.count, x[0] == first[0], Array(x[2...]) == Array(first[2...]) else {
                throw OpSpecError("fused_channel_shuffle: inputs \(xs) differ outside axis 1")
            }
        }
        guard xs.allSatisfy({ $0[1] > 0 }) else { throw OpSpecError("fused_channel_shuffle: input channels must be known") }
        let outs = s.node.outputs("Out")
        let secs = try outputSections(channels: xs.reduce(0) { $0 + $1[1] }, outputs: outs.count)
        return zip(outs, secs).map { name, c in
            var o = first
            o[1] = c
            return InferredValue(name, s.dtype("X"), o)
        }
    }
}
