package dev.longlora.trainer.backend.cuda;

import java.util.Locale;

/**
 * How the CUDA backend's fp32 matrix products run on cuBLAS (cublasGemmEx with fp32 operands): exact fp32, or
 * tensor cores with the inputs rounded to TF32 or bf16 and fp32 accumulation (the numerics of PyTorch's allow_tf32
 * and bf16 autocast). Chosen by LONGLORA_CUDA_MATMUL; fp32 is the default and what the tests compare exactly.
 */
public enum MatmulPrecision {
    FP32(68), // CUBLAS_COMPUTE_32F
    TF32(77), // CUBLAS_COMPUTE_32F_FAST_TF32
    BF16(75); // CUBLAS_COMPUTE_32F_FAST_16BF

    final int cublasComputeType;

    MatmulPrecision(int cublasComputeType) {
        this.cublasComputeType = cublasComputeType;
    }

    /** fp32, tf32 or bf16 (any case). */
    public static MatmulPrecision parse(String value, String source) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + "=" + value + " is not one of fp32, tf32, bf16");
        }
    }
}
