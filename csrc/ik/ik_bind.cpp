// Python binding of the CPU retargeting IK (registered into mimiclab._C).
#include "common/bind.h"
#include "ik/ik_args.h"

namespace mimiclab {

namespace {

template <typename S>
void run(const IkArgs& a, int num_threads) {
  ik_solve_cpu<S>(a.tree<S>(), a.targets<S>(), a.params<S>(), a.C, a.T,
                  a.b.at("init_root_pos").data<S>(), a.b.at("init_root_quat").data<S>(),
                  a.b.at("init_joint_pos").data<S>(), a.b.at("init_posture").data<S>(),
                  a.outputs<S>(), num_threads);
}

void ik_solve(const py::dict& tree, const py::dict& bounds, const py::dict& targets,
              const py::dict& init, const py::dict& out, const py::dict& params, int num_threads) {
  IkArgs a = parse_ik_args(tree, bounds, targets, init, out, params, "cpu");
  check_ik_indices(a);
  py::gil_scoped_release release;
  if (a.dtype == "float32")
    run<float>(a, num_threads);
  else
    run<double>(a, num_threads);
}

}  // namespace

void bind_ik(py::module_& m) {
  m.def("ik_solve", &ik_solve, py::arg("tree"), py::arg("bounds"), py::arg("targets"),
        py::arg("init"), py::arg("out"), py::arg("params"), py::arg("num_threads") = 0,
        "Levenberg–Marquardt IK of C clips × T frames (clips in parallel, frames in order).");
}

}  // namespace mimiclab
