// Python binding of the CUDA retargeting IK (registered into mimiclab._C_cuda).
#include "common/bind.h"
#include "common/cuda_check.h"
#include "ik/ik_args.h"

namespace mimiclab {

namespace {

template <typename S>
int run(const IkArgs& a, const Buffer& workspace) {
  return ik_solve_cuda<S>(a.tree<S>(), a.targets<S>(), a.params<S>(), a.C, a.T,
                          a.b.at("init_root_pos").data<S>(), a.b.at("init_root_quat").data<S>(),
                          a.b.at("init_joint_pos").data<S>(), a.b.at("init_posture").data<S>(),
                          a.outputs<S>(), workspace.data<S>());
}

void ik_solve(const py::dict& tree, const py::dict& bounds, const py::dict& targets,
              const py::dict& init, const py::dict& out, const py::dict& params,
              const py::handle& workspace_obj) {
  IkArgs a = parse_ik_args(tree, bounds, targets, init, out, params, "cuda");
  Buffer workspace = parse_buffer("workspace", workspace_obj);
  check_shape(workspace, {a.C, ik_workspace_size(a.B, a.J, a.K)});
  check_dtype(workspace, a.dtype);
  check_device_prefix(workspace, "cuda");
  for (const auto& [name, buf] : a.b) check_device_pointer(buf);
  check_device_pointer(workspace);
  int err;
  {
    py::gil_scoped_release release;
    err = a.dtype == "float32" ? run<float>(a, workspace) : run<double>(a, workspace);
  }
  check_cuda(err, "ik_solve");
}

}  // namespace

void bind_ik_cuda(py::module_& m) {
  m.def("ik_workspace_size", [](int B, int J, int K) { return ik_workspace_size(B, J, K); });
  m.def("ik_solve", &ik_solve, py::arg("tree"), py::arg("bounds"), py::arg("targets"),
        py::arg("init"), py::arg("out"), py::arg("params"), py::arg("workspace"),
        "Levenberg–Marquardt IK on CUDA device buffers; workspace (C, ik_workspace_size) scalars.");
}

}  // namespace mimiclab
