import QtopGraph

public enum LowerInt8 {
    public static let name = "lower-int8"
    public static let pass = Pass(name: name) { g, _ in (g, []) }
}
