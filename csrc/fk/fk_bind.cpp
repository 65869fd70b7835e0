// Python binding of the CPU forward kinematics (registered into mimiclab._C by bindings.cpp).
#include "common/bind.h"
#include "fk/fk_args.h"

namespace mimiclab {

namespace {

void fk_forward(const py::dict& tree, const py::handle& root_pos, const py::handle& root_quat,
                const py::handle& joint_pos, const py::handle& body_pos,
                const py::handle& body_quat, int num_threads) {
  FkArgs a = parse_fk_args(tree, root_pos, root_quat, joint_pos, body_pos, body_quat, "cpu");
  check_fk_topology(a);
  py::gil_scoped_release release;
  if (a.dtype == "float32") {
    fk_forward_cpu<float>(a.tree<float>(), a.batch, a.num_joints, a.root_pos.data<float>(),
                          a.root_quat.data<float>(), a.joint_pos.data<float>(),
                          a.body_pos.data<float>(), a.body_quat.data<float>(), num_threads);
  } else {
    fk_forward_cpu<double>(a.tree<double>(), a.batch, a.num_joints, a.root_pos.data<double>(),
                           a.root_quat.data<double>(), a.joint_pos.data<double>(),
                           a.body_pos.data<double>(), a.body_quat.data<double>(), num_threads);
  }
}

}  // namespace

void bind_fk(py::module_& m) {
  m.def("fk_forward", &fk_forward, py::arg("tree"), py::arg("root_pos"), py::arg("root_quat"),
        py::arg("joint_pos"), py::arg("body_pos"), py::arg("body_quat"),
        py::arg("num_threads") = 0,
        "Batched forward kinematics into preallocated body_pos (N,B,3) / body_quat (N,B,4).");
}

}  // namespace mimiclab
