// CUDA error and pointer checks for the _C_cuda bindings (host code, compiled by the C++ compiler).
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "common/buffer.h"

namespace mimiclab {

inline void check_cuda(int err, const char* what) {
  if (err != 0)
    throw std::runtime_error(std::string(what) + ": " +
                             cudaGetErrorString(static_cast<cudaError_t>(err)));
}

// Every buffer handed to a CUDA kernel must be device (or managed) memory.
inline void check_device_pointer(const Buffer& b) {
  if (b.numel() == 0) return;
  cudaPointerAttributes attr{};
  check_cuda(cudaPointerGetAttributes(&attr, reinterpret_cast<void*>(b.ptr)), b.name.c_str());
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
    throw std::invalid_argument(b.name + ": pointer is not CUDA device memory");
}

}  // namespace mimiclab
