/// The profile vocabulary (ISALevel, Precision, ExecMode, ExecType, DispatchDecision, LayerProfile, ProfileSnapshot)
/// lives in the leaf module QtopProfile so the UI can use it without linking kernels; the runtime speaks it in its
/// public API, so its clients get it with `import QtopRuntime`.
@_exported import QtopProfile
