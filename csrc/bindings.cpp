// mimiclab._C: CPU kernels (C++17, threads over the batch). One bind_<op>() per op.
#include <thread>

#include "common/bind.h"

PYBIND11_MODULE(_C, m) {
  m.doc() = "mimiclab CPU kernels (C++17, multi-threaded over the batch)";
  m.attr("__version__") = MIMICLAB_VERSION;
  m.def("hardware_threads", [] { return static_cast<int>(std::thread::hardware_concurrency()); });
  mimiclab::bind_fk(m);
  mimiclab::bind_ik(m);
  mimiclab::bind_pointcloud(m);
}
