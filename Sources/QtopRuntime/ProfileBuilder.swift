import QtopGraph

extension ProfileSnapshot {
    /// Turns an executor's plan and a profiler's statistics into the snapshot the CLI and the UI read.
    ///
    /// Rows follow execution order. When `original` (the graph as loaded) is given, Paddle ops that were fused into
    /// another node appear as NOT_RUN and ops removed outright as OPTIMIZED_OUT, as benchmark_app reports them.
    public static func build(executor: Executor, profiler: Profiler, mode: ExecMode, isaCap: ISALevel, threads: Int,
                             original: Graph? = nil) -> ProfileSnapshot {
        var layers: [LayerProfile] = []
        var total = 0.0, totalCpu = 0.0
        for step in executor.steps {
            let n = step.node
            let s = profiler.layers[n.id] ?? Profiler.Series()
            layers.append(LayerProfile(
                nodeID: n.id, name: n.name, status: .executed, layerType: n.type, execType: step.decision.execType,
                outPrecision: Executor.outputPrecision(executor.graph, n), lastMs: s.last, meanMs: s.mean,
                medianMs: s.median, minMs: s.min.isFinite ? s.min : 0, cpuMs: s.cpuMean, percent: 0,
                history: Array(s.window.suffix(64)), fusedFrom: n.provenance))
            total += s.mean
            totalCpu += s.cpuMean
        }
        for i in layers.indices { layers[i].percent = total > 0 ? layers[i].meanMs / total * 100 : 0 }
        if let original {
            let shown = Set(layers.map(\.name))
            var fusedInto = Set<String>()
            for l in layers { fusedInto.formUnion(l.fusedFrom) }
            for n in original.nodes where !shown.contains(n.name) {
                let status: LayerStatus = fusedInto.contains(n.name) ? .notRun : .optimizedOut
                layers.append(LayerProfile(nodeID: -1 - n.id, name: n.name, status: status, layerType: n.type,
                                           execType: nil, outPrecision: nil, fusedFrom: [n.name]))
            }
        }
        let lat = profiler.latency
        let wallS = Double(Clock.wallNs() - profiler.startedNs) / 1e9
        return ProfileSnapshot(
            layers: layers, runs: lat.count, latencyMedianMs: lat.median, latencyP90Ms: percentile(lat.window, 0.9),
            latencyMinMs: lat.min.isFinite ? lat.min : 0, latencyMaxMs: lat.window.max() ?? 0, latencyLastMs: lat.last,
            latencyHistory: Array(lat.window.suffix(120)), fps: wallS > 0 ? Double(lat.count) / wallS : 0,
            mode: mode, isaCap: isaCap, threads: threads, totalMs: total, totalCpuMs: totalCpu)
    }
}
