#pragma once
// Boundary checks shared by the op glue. Messages name the argument and what was expected; the
// Python layer validates first and raises ValueError, these keep direct torch.ops calls safe.
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <vector>

namespace nasfast {

inline void check_floating(const at::Tensor& t, const char* name) {
  TORCH_CHECK_VALUE(at::isFloatingType(t.scalar_type()), name,
                    ": expected a floating-point tensor, got ", t.scalar_type());
}

inline void check_same_device_dtype(const at::Tensor& t, const at::Tensor& ref, const char* name,
                                    const char* ref_name) {
  TORCH_CHECK_VALUE(t.device() == ref.device(), name, ": expected device ", ref.device(), " (as ",
                    ref_name, "), got ", t.device());
  TORCH_CHECK_VALUE(t.scalar_type() == ref.scalar_type(), name, ": expected dtype ",
                    ref.scalar_type(), " (as ", ref_name, "), got ", t.scalar_type());
}

}  // namespace nasfast
