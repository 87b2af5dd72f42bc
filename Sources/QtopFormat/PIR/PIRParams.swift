extension PIRProgram {
    /// The parameters as `.pdiparams` stores them: sorted byte-wise by name (Paddle's `save_vars_pir` writes
    /// `sorted(names)`; checked against paddlepaddle 3.3.1 by writing distinct values and reading them back),
    /// with the dtype and dims the program declares.
    public func storedParameters() -> [ParamsReader.Declared] {
        parameters.map { (key: Array($0.name.utf8), p: $0) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
            .map { ParamsReader.Declared(name: $0.p.name, dtype: $0.p.value.type.dtype, dims: $0.p.value.type.dims ?? []) }
    }
}

extension ParamsReader {
    /// The stored tensors of a PIR program's parameters, from `files.params`.
    public static func load(pir program: PIRProgram, files: ModelFiles, prefetched: ParamsPrefetch? = nil) throws -> [String: HostTensor] {
        var seen = Set<String>()
        for p in program.parameters where !seen.insert(p.name).inserted {
            throw FormatError(file: files.program, "not a valid PIR program: parameter '\(p.name)' is declared twice")
        }
        let declared = program.storedParameters()
        let tensors = try load(declared: declared, files: files, prefetched: prefetched)
        // The params file's dtype wins (PTQ stores int8 where the program says float), but a float the program
        // declares cannot be read from bytes of another size.
        for d in declared {
            guard let t = tensors[d.name], let want = d.dtype else { continue }
            if want.isFloatingPoint && t.dtype.isFloatingPoint && want.byteSize != t.dtype.byteSize {
                throw FormatError(file: paramsPath(files), "parameter '\(d.name)' is stored as \(t.dtype.paddleName) but the program declares \(want.paddleName)")
            }
        }
        return tensors
    }

    static func paramsPath(_ files: ModelFiles) -> String {
        switch files.params {
        case .combined(let p): return p
        case .separate(let d): return d
        case .none(let e): return e
        }
    }
}
