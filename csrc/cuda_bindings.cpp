// mimiclab._C_cuda: CUDA kernels. Buffers are device pointers; each is checked to be device memory.
#include <cuda_runtime.h>
#include <pybind11/pybind11.h>

#include <string>

#include "fk/fk_args.h"

namespace py = pybind11;
using namespace mimiclab;

namespace {

void check_cuda(int err, const char* what) {
  if (err != 0)
    throw std::runtime_error(std::string(what) + ": " +
                             cudaGetErrorString(static_cast<cudaError_t>(err)));
}

void check_device_pointer(const Buffer& b) {
  if (b.numel() == 0) return;
  cudaPointerAttributes attr{};
  check_cuda(cudaPointerGetAttributes(&attr, reinterpret_cast<void*>(b.ptr)), b.name.c_str());
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
    throw std::invalid_argument(b.name + ": pointer is not CUDA device memory");
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver/device" error
    return 0;
  }
  return n;
}

void fk_forward(const py::dict& tree, const py::handle& root_pos, const py::handle& root_quat,
                const py::handle& joint_pos, const py::handle& body_pos,
                const py::handle& body_quat) {
  FkArgs a = parse_fk_args(tree, root_pos, root_quat, joint_pos, body_pos, body_quat, "cuda");
  for (const Buffer* b : {&a.parent, &a.joint_index, &a.local_pos, &a.local_quat, &a.joint_axis,
                          &a.joint_anchor, &a.root_pos, &a.root_quat, &a.joint_pos, &a.body_pos,
                          &a.body_quat})
    check_device_pointer(*b);
  int err;
  {
    py::gil_scoped_release release;
    if (a.dtype == "float32") {
      err = fk_forward_cuda<float>(a.tree<float>(), a.batch, a.num_joints,
                                   a.root_pos.data<float>(), a.root_quat.data<float>(),
                                   a.joint_pos.data<float>(), a.body_pos.data<float>(),
                                   a.body_quat.data<float>());
    } else {
      err = fk_forward_cuda<double>(a.tree<double>(), a.batch, a.num_joints,
                                    a.root_pos.data<double>(), a.root_quat.data<double>(),
                                    a.joint_pos.data<double>(), a.body_pos.data<double>(),
                                    a.body_quat.data<double>());
    }
  }
  check_cuda(err, "fk_forward");
}

}  // namespace

PYBIND11_MODULE(_C_cuda, m) {
  m.doc() = "mimiclab CUDA kernels";
  int rt = 0;
  cudaRuntimeGetVersion(&rt);
  m.attr("cuda_runtime_version") = rt;
  m.def("device_count", &device_count, "Number of usable CUDA devices (0 without driver/GPU).");
  m.def("fk_forward", &fk_forward, py::arg("tree"), py::arg("root_pos"), py::arg("root_quat"),
        py::arg("joint_pos"), py::arg("body_pos"), py::arg("body_quat"),
        "Batched forward kinematics on CUDA device buffers.");
}
