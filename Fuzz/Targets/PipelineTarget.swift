import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
import QtopRuntime

/// load → passes → plan, through today's API (ModelLoader, PassManager, Executor). This is the only file that
/// knows that API; re-point it when the pipeline module lands.
enum PipelineTarget {
    /// One registry for the process: kernels are stateless, and building it per input would dominate the run.
    static let registry = KernelLibrary.standard(pool: nil)

    static func run(_ data: Data) {
        let (programBytes, paramsBytes) = FuzzContainer.split(data)
        guard let program = try? ProgramReader.decode(programBytes, file: "fuzz.pdmodel"),
              let params = try? ParamsReader.decodeCombined(paramsBytes, declared: ParamsReader.storedParameters(of: program),
                                                             file: "fuzz.pdiparams"),
              let graph = try? ModelLoader.buildGraph(program: program, params: params, file: "fuzz.pdmodel")
        else { return }
        // The best ISA this CPU has, so the native kernels' descriptors and weight packing are planned too.
        let usable = NativeCPU.usableISAs
        let options = PlanOptions(isaCap: usable.max() ?? .generic, available: usable)
        _ = try? Executor(graph: graph, registry: registry, options: PlanOptions(isaCap: .generic, available: [.generic], referenceOnly: true))
        for target in [PassTarget.int8, .fp32] {
            let final = PassManager.lower(graph, PassOptions(target: target))
            _ = try? Executor(graph: final, registry: registry, options: options)
        }
    }
}
