import Foundation

/// Locations of the repository's data files, found from this source file so tests run from any directory.
public enum RepoPaths {
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func sample(_ name: String) -> String { "\(root)/samples/\(name)" }
}
