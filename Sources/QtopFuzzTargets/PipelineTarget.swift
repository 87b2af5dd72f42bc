import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
import QtopRuntime

/// load → passes → plan, through today's API (ModelLoader, PassManager, Executor). This is the only file that
/// knows that API; re-point it when the pipeline module lands.
enum PipelineTarget {
    /// One registry for the process: kernels are stateless, and building it per input would dominate the run.
    static let registry = KernelLibrary.standard()

    static func run(_ data: Data) {
        let (programBytes, paramsBytes) = FuzzContainer.split(data)
        guard let program = try? ProgramReader.decode(programBytes, file: "fuzz.pdmodel") else { return }
        let declared = ParamsReader.storedParameters(of: program)
        let params = paramsBytes.isEmpty ? zeroParams(declared)
                                         : try? ParamsReader.decodeCombined(paramsBytes, declared: declared, file: "fuzz.pdiparams")
        guard let params, let graph = try? ModelLoader.buildGraph(program: program, params: params, file: "fuzz.pdmodel")
        else { return }
        // The best ISA this CPU has, so the native kernels' descriptors and weight packing are planned too.
        let usable = NativeCPU.usableISAs
        // Plans over 512 MB are refused (MemoryBudget) so a fuzzing job stays under its 1 GB RSS limit.
        let options = PlanOptions(isaCap: usable.max() ?? .generic, available: usable, maxMemory: 512 << 20)
        let reference = PlanOptions(isaCap: .generic, available: [.generic], referenceOnly: true, maxMemory: 512 << 20)
        _ = try? Executor(graph: graph, registry: registry, options: reference)
        for target in [PassTarget.int8, .fp32] {
            let final = PassManager.lower(graph, PassOptions(target: target))
            _ = try? Executor(graph: final, registry: registry, options: options)
        }
    }

    /// With no params half, every declared parameter is zeros of its declared dtype and dims, so a finding in shape
    /// inference, passes or planning can be committed as the program alone. Nil (skip) past 64 MB in all.
    static func zeroParams(_ declared: [ParamsReader.Declared]) -> [String: HostTensor]? {
        var total = 0
        var out: [String: HostTensor] = [:]
        for d in declared {
            let dtype = d.dtype ?? .f32
            var n = dtype.byteSize
            for dim in d.dims {
                guard dim >= 0 else { return nil }
                let (m, overflow) = n.multipliedReportingOverflow(by: dim)
                guard !overflow, m <= 64 << 20 else { return nil }
                n = m
            }
            total += n
            guard total <= 64 << 20 else { return nil }
            out[d.name] = HostTensor(dtype: dtype, shape: d.dims)
        }
        return out
    }
}
