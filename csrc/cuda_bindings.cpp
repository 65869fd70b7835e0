// mimiclab._C_cuda: CUDA kernels. Buffers are device pointers; each is checked to be device memory.
#include <cuda_runtime.h>

#include "common/bind.h"

namespace {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver/device" error
    return 0;
  }
  return n;
}

}  // namespace

PYBIND11_MODULE(_C_cuda, m) {
  m.doc() = "mimiclab CUDA kernels";
  int rt = 0;
  cudaRuntimeGetVersion(&rt);
  m.attr("cuda_runtime_version") = rt;
  m.def("device_count", &device_count, "Number of usable CUDA devices (0 without driver/GPU).");
  mimiclab::bind_fk_cuda(m);
  mimiclab::bind_ik_cuda(m);
  mimiclab::bind_pointcloud_cuda(m);
}
