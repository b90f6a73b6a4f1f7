// Stub for the glue syntax check only (see CMakeLists.txt): declares what the CPU torch's
// ATen/cuda headers name from this CUDA library, which the nvcc-only toolkit here lacks.
#pragma once
typedef struct cublasLtContext* cublasLtHandle_t;
