#!/usr/bin/env python3
"""Loads a model with OpenVINO's Python API and runs N latency-mode inferences: run under /usr/bin/time -v to get
OpenVINO's peak resident memory for the same work `qtop bench` does."""
import sys

import numpy as np
import openvino as ov

model, n = sys.argv[1], int(sys.argv[2])
core = ov.Core()
m = core.read_model(model)
m.reshape({m.inputs[0].get_any_name(): [1, 3, 224, 224]})
compiled = core.compile_model(m, "CPU", {"PERFORMANCE_HINT": "LATENCY"})
req = compiled.create_infer_request()
x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
for _ in range(n):
    req.infer({0: x})
