/// A problem with an input file. `description` is the one line users see: the file, then the problem.
public struct FormatError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let problem: String

    public init(file: String, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}
