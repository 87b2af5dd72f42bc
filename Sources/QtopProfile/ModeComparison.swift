/// One row of the compare view: the same original op's time in int8 and in fp32.
public struct ModeComparison: Sendable, Equatable {
    public let name: String
    public let layerType: String
    public let int8Ms: Double
    public let fp32Ms: Double
    public var speedup: Double { int8Ms > 0 ? fp32Ms / int8Ms : 0 }

    public init(name: String, layerType: String, int8Ms: Double, fp32Ms: Double) {
        self.name = name
        self.layerType = layerType
        self.int8Ms = int8Ms
        self.fp32Ms = fp32Ms
    }
}
