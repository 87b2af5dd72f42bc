/// Why a kernel was or was not chosen for a node (the profile's dispatch column, `report --dispatch`).
public struct DispatchDecision: Sendable, Equatable {
    public struct Rejected: Sendable, Equatable {
        public let implementation: String
        public let isa: ISALevel
        public let reason: String
        public init(implementation: String, isa: ISALevel, reason: String) {
            self.implementation = implementation
            self.isa = isa
            self.reason = reason
        }
    }

    /// What was chosen, e.g. `conv1x1:avx512_vnni:i8`, `ref:generic:fp32`.
    public let execType: ExecType
    public let rejected: [Rejected]

    public var implementation: String { execType.implementation }
    public var isa: ISALevel { execType.isa }

    public init(execType: ExecType, rejected: [Rejected]) {
        self.execType = execType
        self.rejected = rejected
    }
}
