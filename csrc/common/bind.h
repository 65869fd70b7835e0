// Each op registers its Python functions through one bind_<op>(module) function, declared here,
// so adding an op touches its own folder plus one line in bindings.cpp / cuda_bindings.cpp.
#pragma once

#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace mimiclab {

void bind_fk(py::module_& m);
void bind_ik(py::module_& m);
void bind_pointcloud(py::module_& m);

// CUDA module (_C_cuda) only.
void bind_fk_cuda(py::module_& m);
void bind_ik_cuda(py::module_& m);
void bind_pointcloud_cuda(py::module_& m);

}  // namespace mimiclab
