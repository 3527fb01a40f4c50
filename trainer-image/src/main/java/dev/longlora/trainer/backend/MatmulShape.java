package dev.longlora.trainer.backend;

/** The sizes of c[m, n] = op(a)[m, k] x op(b)[k, n], once {@link BackendChecks#matmul} found that they fit. */
public record MatmulShape(int m, int n, int k) {}
