// swift-tools-version:6.0
import Foundation
import PackageDescription

// One target per concern; data flows down this list and never back up:
// QtopFormat (files) → QtopGraph (IR) → QtopPasses → QtopRuntime (+ CQtopKernels) → QtopPipeline → qtop (CLI),
// and QtopProfile (the profile vocabulary, no dependencies) → QtopUI → QtopTerminal → qtop. The UI never links
// the runtime or the kernels: it reads plain values through the ProfileFeed protocol.
let package = Package(
    name: "qtop",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "qtop", targets: ["qtop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // Model files: Paddle protobuf schema + generated code, .pdiparams reader, .npy reader/writer.
        .target(name: "QtopFormat", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Proto/framework.proto"]),
        // Graph IR: values, nodes with typed attributes and provenance, constants, shape inference.
        .target(name: "QtopGraph", dependencies: ["QtopFormat"]),
        // Fusion passes with snapshots and change lists.
        .target(name: "QtopPasses", dependencies: ["QtopGraph"]),
        // C kernels: CPU detection, ISA dispatch, reference and per-ISA int8/fp32 kernels, thread pool.
        .target(name: "CQtopKernels", cSettings: [.define("_GNU_SOURCE")], linkerSettings: [.linkedLibrary("pthread")]),
        // The profile vocabulary shared by runtime and UI: ISA levels, precision, exec types, layer profiles,
        // snapshots, dispatch decisions, the ProfileFeed protocol. Plain values, no dependencies.
        .target(name: "QtopProfile"),
        // Executor, kernel registry, memory plan, profiler.
        .target(name: "QtopRuntime", dependencies: ["QtopGraph", "QtopProfile", "CQtopKernels"]),
        // Load → passes → plan → run → profile: the engine (graph per mode, plans, thread pools) and the live runner.
        .target(name: "QtopPipeline", dependencies: ["QtopFormat", "QtopGraph", "QtopPasses", "QtopRuntime", "QtopProfile"]),
        // UI core: state, reducer, rendering into a cell grid. No curses, no runtime, no kernels here.
        .target(name: "QtopUI", dependencies: ["QtopFormat", "QtopGraph", "QtopPasses", "QtopProfile"]),
        // ncursesw through a system library plus a small C shim for the macros and globals Swift cannot import.
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw",
                       providers: [.apt(["libncurses-dev"]), .brew(["ncurses"])]),
        .target(name: "CNcursesShim", dependencies: ["CNcurses"]),
        .target(name: "QtopTerminal", dependencies: ["QtopGraph", "QtopPasses", "QtopProfile", "QtopUI", "CNcursesShim"]),
        .executableTarget(name: "qtop", dependencies: [
            "QtopFormat", "QtopGraph", "QtopPasses", "QtopRuntime", "QtopPipeline", "QtopProfile", "QtopUI", "QtopTerminal",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Paths, sample outputs, tiny models, and the UI's demo data and scripted feed. Never links the runtime.
        .target(name: "QtopTestSupport", dependencies: ["QtopFormat", "QtopGraph", "QtopPasses", "QtopProfile"],
                path: "Tests/QtopTestSupport"),
        .testTarget(name: "QtopProfileTests", dependencies: ["QtopProfile"]),
        .testTarget(name: "QtopFormatTests", dependencies: ["QtopFormat", "QtopGraph", "QtopTestSupport"]),
        .testTarget(name: "QtopGraphTests", dependencies: ["QtopGraph", "QtopTestSupport"]),
        .testTarget(name: "QtopPassesTests", dependencies: ["QtopPasses", "QtopRuntime", "QtopTestSupport"]),
        .testTarget(name: "QtopRuntimeTests", dependencies: ["QtopRuntime", "QtopPasses", "QtopTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "QtopPipelineTests", dependencies: ["QtopPipeline", "QtopRuntime", "QtopPasses", "QtopTestSupport"]),
        .testTarget(name: "QtopKernelsTests", dependencies: ["CQtopKernels", "QtopRuntime", "QtopTestSupport"]),
        // Kernel-free: the UI against demo data and a scripted feed.
        .testTarget(name: "QtopUITests", dependencies: ["QtopUI", "QtopTerminal", "QtopTestSupport"]),
        // Golden screens of a real profile of a sample (links the pipeline and kernels; timings masked).
        .testTarget(name: "QtopUIGoldenTests", dependencies: ["QtopUI", "QtopPipeline", "QtopTestSupport"],
                    exclude: ["Golden"]),
        .testTarget(name: "QtopCLITests", dependencies: ["QtopTestSupport"], exclude: ["tui_e2e.sh", "tui_signals.sh", "tui_shape_e2e.sh", "tui_lib.sh"]),
        // Fuzz targets as plain functions (no libFuzzer), shared by the fuzz driver and the regression replay test.
        .target(name: "QtopFuzzTargets", dependencies: ["QtopFormat", "QtopGraph", "QtopPasses", "QtopRuntime",
                                                        .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Sources/QtopFuzzTargets"),
        .testTarget(name: "QtopFuzzTests", dependencies: ["QtopFuzzTargets", "QtopFormat", "QtopTestSupport"],
                    exclude: ["Regressions"]),
    ]
)

// The libFuzzer driver links libFuzzer's own `main`, so it only builds with `-sanitize=fuzzer`; it is declared only
// when QTOP_FUZZ=1 so that plain `swift build` / `swift test` never see it (scripts/fuzz.sh sets both).
if ProcessInfo.processInfo.environment["QTOP_FUZZ"] == "1" {
    package.targets += [
        .target(name: "CQtopFuzz", path: "Sources/CQtopFuzz"),
        .executableTarget(name: "qtop-fuzz", dependencies: ["CQtopFuzz", "QtopFuzzTargets", "QtopFormat"],
                          path: "Sources/qtop-fuzz", swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ]
}
